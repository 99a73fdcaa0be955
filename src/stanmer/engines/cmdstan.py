"""The cmdstan engine: a thin wrapper on cmdstanpy and an installed CmdStan.

Each program lives at cache_dir()/cmdstan/<program hash>/model.stan and its
executable beside it. cmdstanpy reuses an executable that is newer than its
.stan file, so a program compiles once across all processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ..atomic import write_text
from ..errors import EngineError
from ..sampling import STAN_SAMPLER_COLUMNS, SamplerOptions, by_chain
from .base import CompiledProgram, Run, cache_dir, program_hash

if TYPE_CHECKING:
    import cmdstanpy

_HINT = (
    "Hint: a stanc message points into the Stan program; a failure while "
    "sampling usually means the data or initial values do not fit it."
)


class CmdStanEngine:
    """Samples with CmdStan through cmdstanpy."""

    name = "cmdstan"

    def available(self) -> bool:
        if importlib.util.find_spec("cmdstanpy") is None:
            return False
        import cmdstanpy

        try:
            cmdstanpy.cmdstan_path()
        except ValueError:  # what cmdstanpy raises when no CmdStan is installed
            return False
        return True

    def compile(self, program: str, show_progress: bool = True) -> CmdStanProgram:
        import cmdstanpy

        stan_file = program_file(program)
        executable = executable_for(stan_file)
        discard_unverified(executable)
        compiled = not executable.exists()
        started = time.perf_counter()
        with _cmdstanpy_log_quiet(not show_progress):
            model = _compile(stan_file)
        if compiled:
            write_text(digest_file(executable), file_sha256(executable))
        return CmdStanProgram(model, stan_file, cmdstanpy.__version__, time.perf_counter() - started, compiled)


class CmdStanProgram(CompiledProgram):
    """A CmdStan executable, run by cmdstanpy."""

    def __init__(
        self, model: cmdstanpy.CmdStanModel, stan_file: Path, version: str, compile_seconds: float, compiled: bool
    ) -> None:
        super().__init__("cmdstan", version, compile_seconds, compiled)
        self.model, self.stan_file = model, stan_file

    def _run_nuts(self, data: Mapping[str, Any], options: SamplerOptions, seed: int) -> Run:
        with _cmdstanpy_log_quiet(not options.show_progress):
            fit = _run_nuts(self.model, data, options, seed)
        by_draw = fit.method_variables()
        return Run(
            variables={
                name: by_chain(values, fit.chains, interleaved=False) for name, values in fit.stan_variables().items()
            },
            # method_variables() gives each sampler column as (draw, chain).
            columns={column: by_draw[column].T for column in STAN_SAMPLER_COLUMNS},
            info={"stan_file": str(self.stan_file)},
        )


def program_file(program: str) -> Path:
    """The program's .stan file in the cache, written the first time only.

    Rewriting it would make it newer than its executable, which cmdstanpy
    would then compile again.
    """
    path = cache_dir() / "cmdstan" / program_hash(program) / "model.stan"
    if not path.exists() or _read(path) != program:  # missing, or damaged: then its executable is suspect too
        write_text(path, program)
        executable_for(path).unlink(missing_ok=True)
    return path


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def digest_file(executable: Path) -> Path:
    """Beside the executable: its sha256, written once it is fully built."""
    return executable.with_name(executable.name + ".sha256")


def discard_unverified(executable: Path) -> None:
    """Delete an executable whose recorded hash is missing or differs (a build
    cut short, a damaged file), with a warning, so it is compiled again."""
    if not executable.exists():
        return
    try:
        recorded = digest_file(executable).read_text(encoding="utf-8").strip()
    except OSError:
        recorded = None
    if recorded == file_sha256(executable):
        return
    warnings.warn(
        f"the cached CmdStan executable {executable} is unverified (no or a different recorded hash); "
        "deleting it and compiling again",
        stacklevel=4,
    )
    executable.unlink()
    digest_file(executable).unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def executable_for(stan_file: Path) -> Path:
    """Where cmdstanpy puts the executable it compiles from `stan_file`."""
    from cmdstanpy.utils import EXTENSION

    return stan_file.with_suffix(EXTENSION)


def _compile(stan_file: Path) -> cmdstanpy.CmdStanModel:
    import cmdstanpy

    try:
        return cmdstanpy.CmdStanModel(stan_file=str(stan_file))
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"CmdStan could not compile the program:\n{error}\n{_HINT}") from error


def _run_nuts(
    model: cmdstanpy.CmdStanModel, data: Mapping[str, Any], options: SamplerOptions, seed: int
) -> cmdstanpy.CmdStanMCMC:
    try:
        return model.sample(
            data=dict(data),
            chains=options.chains,
            parallel_chains=options.parallel_chains,
            seed=seed,
            iter_warmup=options.warmup,
            iter_sampling=options.draws,
            adapt_delta=options.adapt_delta,
            max_treedepth=options.max_treedepth,
            thin=options.thin,
            inits=options.inits,
            show_progress=options.show_progress,
        )
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"CmdStan could not sample:\n{error}\n{_HINT}") from error


@contextlib.contextmanager
def _cmdstanpy_log_quiet(quiet: bool) -> Iterator[None]:
    """Hold back cmdstanpy's INFO lines ("CmdStan start processing") when asked."""
    logger = logging.getLogger("cmdstanpy")
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
