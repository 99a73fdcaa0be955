"""Which engine runs a method other than NUTS, and why.

stanli has the log density and its gradient, so optimize and laplace run
on it (through BridgeStan); it has no Pathfinder or ADVI of its own, so
under engine="auto" those go to CmdStan when it is installed. pystan 3
has neither Pathfinder nor ADVI. An explicitly chosen engine that lacks
the method is an error naming the engines that have it.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Mapping

from stanmer.errors import EngineError
from stanmer.methods.options import MethodOptions
from stanmer.sampling import Draws

_ON_STANLI = ("optimize", "laplace")
_CMDSTAN_HINT = (
    "install CmdStan: `pip install cmdstanpy && python -m cmdstanpy.install_cmdstan` "
    "(downloads CmdStan from GitHub and builds it, so it needs internet access and a C++ toolchain)"
)


def run_method(
    engine: str, program: str, data: Mapping[str, Any], options: MethodOptions, seed: int,
    inits: Any = None,
) -> Draws:
    """`options.method` (not "sample") on the engine chosen for it."""
    chosen, reason = choose_engine(engine, options.method)
    run = getattr(_compiled(chosen, program), options.method)  # e.g. compiled.laplace
    draws = run(data, options, seed, inits)
    draws.info["engine_reason"] = reason
    return draws


def choose_engine(engine: str, method: str) -> tuple[str, str]:
    """The engine that runs `method` when `engine` was asked for, and why."""
    stanli_ready = _stanli_ready()
    cmdstan_ready = _cmdstan_ready()
    if engine == "auto":
        if method in _ON_STANLI and stanli_ready:
            return "stanli", f"auto: stanli runs {method} without compiling"
        if cmdstan_ready:
            return "cmdstan", f"auto: stanli has no {method}; CmdStan has"
        needs = (
            "`pip install bridgestan` (for stanli) or " if method in _ON_STANLI else ""
        )
        raise EngineError(f"no installed engine runs method={method!r}: {needs}{_CMDSTAN_HINT}.")
    if engine == "cmdstan":
        if not cmdstan_ready:
            raise EngineError(f"the cmdstan engine is not available: {_CMDSTAN_HINT}.")
        return "cmdstan", "chosen"
    if engine == "stanli" and method in _ON_STANLI:
        if not stanli_ready:
            raise EngineError(
                f"method={method!r} on stanli needs bridgestan: `pip install bridgestan` "
                "(pure Python; stanli supplies the model, so no compiler is needed)."
            )
        return "stanli", "chosen"
    has = "stanli and cmdstan" if method in _ON_STANLI else "cmdstan only"
    raise EngineError(
        f"the {engine} engine has no {method}; {has} run it.\n"
        f"Hint: use engine='auto' (or 'cmdstan'); to {_CMDSTAN_HINT}."
    )


def _stanli_ready() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("stanli", "bridgestan"))


def _cmdstan_ready() -> bool:
    from stanmer.engines.cmdstan import CmdStanEngine

    return CmdStanEngine().available()


def _compiled(engine: str, program: str):
    from stanmer.engines import get_engine

    return get_engine(engine).compile(program, show_progress=False)
