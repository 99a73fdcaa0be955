"""The cmdstan engine: a thin wrapper on cmdstanpy and an installed CmdStan.

Each program lives at cache_dir()/cmdstan/<program hash>/model.stan and its
executable beside it. cmdstanpy reuses an executable that is newer than its
.stan file, so a program compiles once across all processes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ..atomic import write_text
from ..errors import EngineError
from ..progress import EngineOutput, compiling
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
        return importlib.util.find_spec("cmdstanpy") is not None and cmdstan_installed()

    def compile(self, program: str, show_progress: bool = True, verbose: bool = False) -> CmdStanProgram:
        import cmdstanpy

        stan_file = program_file(program)
        compiled = not executable_for(stan_file).exists()
        started = time.perf_counter()
        with _cmdstanpy_log(verbose), compiling("cmdstan", show_progress and compiled and not verbose):
            model = _compile(stan_file)
        return CmdStanProgram(model, stan_file, cmdstanpy.__version__, time.perf_counter() - started, compiled)


class CmdStanProgram(CompiledProgram):
    """A CmdStan executable, run by cmdstanpy."""

    def __init__(
        self, model: cmdstanpy.CmdStanModel, stan_file: Path, version: str, compile_seconds: float, compiled: bool
    ) -> None:
        super().__init__("cmdstan", version, compile_seconds, compiled)
        self.model, self.stan_file = model, stan_file

    def _run_nuts(self, data: Mapping[str, Any], options: SamplerOptions, seed: int, output: EngineOutput) -> Run:
        with _cmdstanpy_log(options.verbose):
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

    Rewriting it would make it newer than its executable, which cmdstanpy
    would then compile again.
    """
    path = cache_dir() / "cmdstan" / program_hash(program) / "model.stan"
    if not path.exists():
        write_text(path, program)
    return path


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
            # CmdStan's own console lines, printed by cmdstanpy, feed stanmer's
            # display (engine_output); cmdstanpy's per-chain bars would not.
            show_progress=False,
            show_console=options.show_progress or options.verbose,
        )
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"CmdStan could not sample:\n{error}\n{_HINT}") from error


@contextlib.contextmanager
def _cmdstanpy_log(verbose: bool) -> Iterator[None]:
    """Hold back cmdstanpy's log unless verbose: its INFO lines ("CmdStan
    start processing") and its warning that repeats Stan's informational
    messages, which stanmer counts instead. Errors reach the EngineError."""
    logger = logging.getLogger("cmdstanpy")
    level = logger.level
    if not verbose:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
