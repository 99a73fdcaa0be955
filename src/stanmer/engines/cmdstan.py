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
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np

from ..atomic import write_text
from ..errors import EngineError
from ..progress import EngineOutput, compiling
from ..sampling import STAN_SAMPLER_COLUMNS, Draws, SamplerOptions, by_chain
from .base import CompiledProgram, Run, cache_dir, program_hash

if TYPE_CHECKING:
    import cmdstanpy

    from ..methods.options import MethodOptions

# CmdStan writes its CSV at 6 significant figures unless told otherwise,
# which rounds every draw; 18 keeps every bit of a double.
SIG_FIGS = 18

_HINT = (
    "Hint: a stanc message points into the Stan program; a failure while "
    "sampling usually means the data or initial values do not fit it."
)


class CmdStanEngine:
    """Samples with CmdStan through cmdstanpy."""

    name = "cmdstan"

    def available(self) -> bool:
        return importlib.util.find_spec("cmdstanpy") is not None and cmdstan_installed()

    def compile(self, program: str, show_progress: bool = True, verbose: bool = False) -> CmdStanProgram:
        import cmdstanpy

        stan_file = program_file(program)
        executable = executable_for(stan_file)
        discard_unverified(executable)
        compiled = not executable.exists()
        started = time.perf_counter()
        with _cmdstanpy_log_quiet(), compiling("cmdstan", show_progress and compiled and not verbose):
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

    def _run_nuts(self, data: Mapping[str, Any], options: SamplerOptions, seed: int, output: EngineOutput) -> Run:
        with _cmdstanpy_log_quiet():
            fit = _run_nuts(self.model, data, options, seed)
        by_draw = fit.method_variables()
        return Run(
            variables={
                name: by_chain(values, fit.chains, interleaved=False) for name, values in fit.stan_variables().items()
            },
            # method_variables() gives each sampler column as (draw, chain).
            columns={column: by_draw[column].T for column in STAN_SAMPLER_COLUMNS},
            info={"stan_file": str(self.stan_file)},
            inv_metric=None if fit.inv_metric is None else np.asarray(fit.inv_metric),
        )

    # optimize, laplace, pathfinder and variational: CmdStan's own, one chain of Draws.
    def optimize(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any = None) -> Draws:
        return self._run_method(data, options, seed, inits)

    def laplace(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any = None) -> Draws:
        return self._run_method(data, options, seed, inits)

    def pathfinder(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any = None) -> Draws:
        return self._run_method(data, options, seed, inits)

    def variational(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any = None) -> Draws:
        return self._run_method(data, options, seed, inits)

    def _run_method(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any) -> Draws:
        from .cmdstan_methods import run_cmdstan_method

        with _cmdstanpy_log_quiet():
            draws = run_cmdstan_method(self.model, data, options, seed, inits)
        draws.compile_seconds, draws.compiled = self.compile_seconds, self.compiled
        return draws


def cmdstan_installed() -> bool:
    """Whether cmdstanpy would find a CmdStan, looked up as it does
    (cmdstanpy.cmdstan_path) but without importing cmdstanpy, whose
    progress bars warn in notebooks without ipywidgets."""
    if "cmdstanpy" in sys.modules:  # imported already: its set_cmdstan_path may have been called
        import cmdstanpy

        try:
            cmdstanpy.cmdstan_path()
        except ValueError:  # what cmdstanpy raises when no CmdStan is installed
            return False
        return True
    configured = os.environ.get("CMDSTAN")
    if configured:
        return (Path(configured) / "makefile").is_file()
    installs = Path.home() / ".cmdstan"
    return any((install / "makefile").is_file() for install in installs.glob("cmdstan-*"))


def program_file(program: str) -> Path:
    """The program's .stan file in the cache, written the first time only.

    The folder is keyed on the program and on the toolchain that builds it
    (build_key), so a new CmdStan or new compiler flags compile afresh.
    Rewriting the file would make it newer than its executable, which
    cmdstanpy would then compile again.
    """
    path = cache_dir() / "cmdstan" / f"{program_hash(program)}-{build_key()}" / "model.stan"
    if not path.exists() or _read(path) != program:  # missing, or damaged: then its executable is suspect too
        write_text(path, program)
        executable_for(path).unlink(missing_ok=True)
    return path


# Environment variables CmdStan's makefiles read for compiler and flags.
_BUILD_VARIABLES = ("CXX", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "LDLIBS", "STAN_THREADS", "STAN_OPENCL", "STAN_MPI", "STANCFLAGS")


def build_key() -> str:
    """A hash of what decides the executable besides the program: the CmdStan
    installation and version, its make/local flags and the build variables."""
    import cmdstanpy

    home = Path(cmdstanpy.cmdstan_path())
    local = home / "make" / "local"
    parts = [
        str(home),
        repr(cmdstanpy.cmdstan_version()),
        local.read_text(encoding="utf-8", errors="replace") if local.exists() else "",
        *(f"{name}={os.environ.get(name, '')}" for name in _BUILD_VARIABLES),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:12]


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
            inv_metric=None if options.inv_metric is None else np.asarray(options.inv_metric, dtype=float),
            step_size=options.step_size,
            # CmdStan's own console lines, printed by cmdstanpy, feed stanmer's
            # display (engine_output); cmdstanpy's per-chain bars would not.
            show_progress=False,
            show_console=options.show_progress or options.verbose,
            sig_figs=SIG_FIGS,
        )
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"CmdStan could not sample:\n{error}\n{_HINT}") from error


class CmdStanWarning(UserWarning):
    """CmdStan finished but reported something worth knowing."""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _cmdstanpy_log_quiet() -> Iterator[None]:
    """Keep cmdstanpy's log out of the user's output: its INFO lines ("CmdStan
    start processing", one per chain and step) are dropped, and its warnings
    come back as Python warnings, the many "Non-fatal error during sampling"
    messages (rejected proposals, mostly in warmup) as one line with a count.
    Progress bars are what `show_progress` controls."""
    logger = logging.getLogger("cmdstanpy")
    collect = _Collect()
    saved = (logger.level, logger.propagate, list(logger.handlers))
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.handlers = [collect]
    try:
        yield
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]
        _summarise(collect.records)


def _summarise(records: list[logging.LogRecord]) -> None:
    non_fatal = [r.getMessage() for r in records if r.getMessage().startswith("Non-fatal error")]
    for record in records:
        if not record.getMessage().startswith("Non-fatal error"):
            warnings.warn(f"CmdStan: {record.getMessage()}", CmdStanWarning, stacklevel=4)
    if non_fatal:
        first = next((line for line in non_fatal[0].splitlines()[1:] if line.strip()), "")
        warnings.warn(
            f"CmdStan rejected some proposals while sampling ({len(non_fatal)} report(s); first: "
            f"{first.strip()[:160]}). This is usual early in warmup; many after warmup point at "
            "the priors or the data.",
            CmdStanWarning,
            stacklevel=4,
        )
