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

from stanmer.engines.base import Draws
from stanmer.errors import EngineError
from stanmer.methods.options import MethodOptions

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
    if chosen == "stanli":
        draws = _on_stanli(program, data, options, seed, inits)
    else:
        draws = _on_cmdstan(program, data, options, seed, inits)
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


def _on_stanli(program, data, options, seed, inits) -> Draws:
    import stanli

    from stanmer.engines.stanli_density import stanli_log_density
    from stanmer.methods.run import run_on_density

    density = stanli_log_density(program, data)
    if isinstance(inits, (int, float)):  # Stan's init radius
        return run_on_density(density, options, seed, "stanli", stanli.__version__, init_radius=float(inits))
    start = _unconstrained_start(density, inits)
    return run_on_density(density, options, seed, "stanli", stanli.__version__, start)


def _unconstrained_start(density, inits):
    if inits is None:
        return None
    if isinstance(inits, list):  # one start per chain: an optimiser has one path
        inits = inits[0]
    from stanmer.methods.density import MethodError

    try:
        import numpy as np

        names = density.model.param_names()
        flat = []
        for name in dict.fromkeys(column.split(".")[0] for column in names):
            flat.append(np.ravel(np.asarray(inits[name], dtype=float), order="F"))
        return density.model.param_unconstrain(np.concatenate(flat))
    except (KeyError, ValueError, RuntimeError) as error:
        raise MethodError(f"initial values do not fit the program: {error}") from error


def _on_cmdstan(program, data, options, seed, inits) -> Draws:
    from stanmer.engines.cmdstan import _cmdstanpy_log_quiet, _compile, program_file
    from stanmer.engines.cmdstan_methods import run_cmdstan_method

    with _cmdstanpy_log_quiet():
        model = _compile(program_file(program))
        return run_cmdstan_method(model, data, options, seed, inits)
