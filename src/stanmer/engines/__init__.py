"""Engines turn a Stan program and its data into posterior draws.

`get_engine` picks one by name. "auto" samples with stanli even where CmdStan
is installed: on stanmer's programs stanli's gradient measured about 2x faster
than CmdStan's (InstEval 1.23 vs 2.86 ms, 2 cores, CmdStan 2.35 default
flags) and it needs no 20-46 s compile per new program. It moves to pystan
only for programs that stanli's compiler or runtime cannot handle. Methods
other than NUTS are routed in engines/methods.py.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

from ..errors import EngineError
from ..sampling import Draws, SamplerOptions
from .base import Compiled, Engine
from .cmdstan import CmdStanEngine
from .pystan import PystanEngine
from .stanli import StanliEngine, StanliUnsupportedError

__all__ = [
    "ENGINE_NAMES",
    "CmdStanEngine",
    "EngineFallbackWarning",
    "PystanEngine",
    "StanliEngine",
    "StanliUnsupportedError",
    "StanliWithPystanFallback",
    "get_engine",
]

ENGINE_NAMES = ("auto", "stanli", "pystan", "cmdstan")

_INSTALL_HINTS = {
    "stanli": "install it with `pip install stanli`.",
    "pystan": (
        "install it with `pip install pystan` (it compiles each new program "
        "with a C++ compiler, which must be on the machine)."
    ),
    "cmdstan": (
        "install cmdstanpy with `pip install cmdstanpy`, then CmdStan with "
        "`python -m cmdstanpy.install_cmdstan` (that step downloads CmdStan "
        "from GitHub, so it needs internet access)."
    ),
}


class EngineFallbackWarning(UserWarning):
    """A program ran on another engine than the one first chosen."""


class StanliWithPystanFallback:
    """stanli, with pystan for the programs stanli cannot compile or run.

    Only StanliUnsupportedError moves a program to pystan; every other
    failure (data outside declared bounds, a chain that cannot start) is a
    problem with the model that pystan would hit too, so it is raised as is.
    """

    name = "auto"

    def __init__(self, stanli: StanliEngine, pystan: PystanEngine) -> None:
        self.stanli = stanli
        self.pystan = pystan

    def available(self) -> bool:
        return self.stanli.available()

    def compile(self, program: str, show_progress: bool = True, verbose: bool = False) -> Compiled:
        try:
            compiled = self.stanli.compile(program, show_progress, verbose)
            return _StanliFirst(self, program, compiled, show_progress, verbose)
        except StanliUnsupportedError as unsupported:
            return self.compile_with_pystan(program, unsupported, show_progress, verbose)

    def compile_with_pystan(
        self, program: str, unsupported: StanliUnsupportedError, show_progress: bool, verbose: bool
    ) -> Compiled:
        if not self.pystan.available():
            raise EngineError(
                f"{unsupported}\n\nNo other engine to fall back on: pystan is not "
                f"installed; {_INSTALL_HINTS['pystan']}"
            ) from unsupported
        warnings.warn(
            f"{_first_lines(unsupported)}\nSampling with pystan instead.",
            EngineFallbackWarning,
            stacklevel=4,
        )
        try:
            return self.pystan.compile(program, show_progress, verbose)
        except EngineError as failure:
            raise _neither(unsupported, failure) from failure


class _StanliFirst:
    """A program stanli compiled; a run that meets a gap in stanli's runtime
    moves to pystan."""

    def __init__(
        self, engines: StanliWithPystanFallback, program: str, stanli: Compiled, show_progress: bool, verbose: bool
    ) -> None:
        self.engines, self.program, self.stanli = engines, program, stanli
        self.show_progress, self.verbose = show_progress, verbose

    def sample(self, data: Mapping[str, Any], options: SamplerOptions) -> Draws:
        try:
            return self.stanli.sample(data, options)
        except StanliUnsupportedError as unsupported:
            pystan = self.engines.compile_with_pystan(self.program, unsupported, self.show_progress, self.verbose)
            try:
                return pystan.sample(data, options)
            except EngineError as failure:
                raise _neither(unsupported, failure) from failure


def _neither(unsupported: StanliUnsupportedError, failure: EngineError) -> EngineError:
    return EngineError(f"Neither engine could run the program.\n\nstanli: {unsupported}\n\npystan: {failure}")


_ENGINES: dict[str, type[Engine]] = {
    "stanli": StanliEngine,
    "pystan": PystanEngine,
    "cmdstan": CmdStanEngine,
}


def get_engine(name: str = "auto") -> Engine:
    """The engine called `name`; EngineError when it is unknown or not installed."""
    if name not in ENGINE_NAMES:
        raise EngineError(
            f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}"
        )
    engine = _auto_engine() if name == "auto" else _ENGINES[name]()
    if not engine.available():
        package = "stanli" if name == "auto" else name
        raise EngineError(f"the {package} engine is not available: {_INSTALL_HINTS[package]}")
    return engine


def _auto_engine() -> Engine:
    return StanliWithPystanFallback(StanliEngine(), PystanEngine())


def _first_lines(error: Exception, count: int = 2) -> str:
    # The warning names the reason; the full stanc/stanli text stays in the error.
    return "\n".join(str(error).splitlines()[:count])
