"""optimize, laplace, pathfinder and variational on CmdStan through cmdstanpy.

Each returns `Draws` with one chain, like the stanli path, and the
approximation's log densities (log p and log q) as sample stats so the
Pareto k of its importance ratios is computed the same way everywhere.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from stanmer.engines.cmdstan import SIG_FIGS
from stanmer.errors import EngineError
from stanmer.methods.laplace import pareto_k
from stanmer.methods.options import MethodOptions
from stanmer.sampling import Draws

if TYPE_CHECKING:
    import cmdstanpy

def run_cmdstan_method(
    model: cmdstanpy.CmdStanModel,
    data: Mapping[str, Any],
    options: MethodOptions,
    seed: int,
    inits: Any = None,
) -> Draws:
    import cmdstanpy

    started = time.perf_counter()
    common = {"data": dict(data), "seed": seed, "sig_figs": SIG_FIGS}
    try:
        variables, stats, info = _RUNNERS[options.method](model, common, options, inits)
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"CmdStan's {options.method} failed:\n{error}") from error
    if "lp_approx" in stats:
        info["pareto_k"] = pareto_k(stats["lp"][0] - stats["lp_approx"][0])
    return Draws(
        variables={name: np.asarray(values)[None, ...] for name, values in variables.items()},
        sample_stats=stats,
        engine="cmdstan",
        engine_version=cmdstanpy.__version__,
        seed=seed,
        max_treedepth=0,
        sample_seconds=time.perf_counter() - started,
        info={"method": options.method, **info},
    )


def _optimize(model, common, options, inits):
    fit = model.optimize(
        **common, inits=inits, jacobian=options["jacobian"], iter=options["iter"], algorithm="lbfgs"
    )
    variables = {name: np.asarray(value)[None, ...] for name, value in fit.stan_variables().items()}
    lp = fit.optimized_params_dict["lp__"]
    return variables, {"lp": np.array([[lp]])}, {"jacobian": options["jacobian"], "mode_log_density": float(lp)}


def _laplace(model, common, options, inits):
    mode = model.optimize(**common, inits=inits, jacobian=True, iter=options["iter"], algorithm="lbfgs")
    fit = model.laplace_sample(**common, mode=mode, draws=options.draws, jacobian=True)
    method = fit.method_variables()
    stats = {"lp": method["log_p__"][None, :], "lp_approx": method["log_g__"][None, :]}
    return fit.stan_variables(), stats, {"jacobian": True}


def _pathfinder(model, common, options, inits):
    fit = model.pathfinder(
        **common, inits=inits, num_paths=options["num_paths"], max_lbfgs_iters=options["iter"],
        draws=options.draws,
    )
    method = fit.method_variables()
    stats = {"lp": method["lp__"][None, :], "lp_approx": method["lp_approx__"][None, :]}
    return fit.stan_variables(), stats, {"num_paths": options["num_paths"]}


def _variational(model, common, options, inits):
    fit = model.variational(
        **common, inits=inits if isinstance(inits, (int, float)) else None,
        algorithm=options["algorithm"], iter=options["iter"], draws=options.draws,
        require_converged=False,
    )
    sample = fit.variational_sample_pd
    stats = {"lp": sample["log_p__"].to_numpy()[None, :], "lp_approx": sample["log_g__"].to_numpy()[None, :]}
    return fit.stan_variables(mean=False), stats, {"algorithm": options["algorithm"]}


_RUNNERS = {
    "optimize": _optimize,
    "laplace": _laplace,
    "pathfinder": _pathfinder,
    "variational": _variational,
}
