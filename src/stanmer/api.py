"""The public entry points: one pipeline, formula → spec → program + data
→ engine → draws → Fit."""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

import pandas as pd

from .codegen import executable_text, generate
from .engines.base import Draws, SamplerOptions
from .errors import EngineError
from .families import Family
from .formula import Design, build_design
from .formula.design import Weights
from .priors import Prior, prior_table
from .results import Fit, to_inference_data
from .methods import MethodOptions, method_options
from .results.diagnostics import warn_approximation, warn_problems
from .standata import make_standata

def design(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors: Iterable[Prior] | None = None,
    weights: Weights = None,
) -> Design:
    """The model as stanmer reads it, without program or draws."""
    return build_design(formula, data, family, priors, weights)


def stan_code(
    formula: str, data: pd.DataFrame, family: str | Family = "gaussian", priors=None, weights: Weights = None
) -> str:
    """The Stan program `fit` would run, with comments naming the terms."""
    return generate(design(formula, data, family, priors, weights).spec)


def stan_data(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors=None,
    weights: Weights = None,
    sample_prior: str = "no",
) -> dict[str, Any]:
    """The data dict `fit` would hand to Stan."""
    return make_standata(design(formula, data, family, priors, weights), _prior_only(sample_prior))


def _prior_only(sample_prior: str) -> bool:
    if sample_prior not in ("no", "only"):
        raise ValueError(f"sample_prior must be 'no' or 'only' (the prior predictive), got {sample_prior!r}")
    return sample_prior == "only"


def default_priors(formula: str, data: pd.DataFrame, family: str | Family = "gaussian") -> pd.DataFrame:
    """The priors stanmer would use, as a table (like brms's get_prior)."""
    return prior_table(design(formula, data, family).spec.priors)


def fit(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors: Iterable[Prior] | None = None,
    *,
    weights: Weights = None,
    engine: str = "auto",
    chains: int = 4,
    warmup: int = 1000,
    draws: int = 1000,
    seed: int | None = None,
    adapt_delta: float = 0.8,
    max_treedepth: int = 10,
    thin: int = 1,
    parallel_chains: int | None = None,
    inits: Mapping[str, Any] | list[Mapping[str, Any]] | float | None = None,
    sample_prior: str = "no",
    progress: bool = True,
    method: str = "sample",
    **method_settings: Any,
) -> Fit:
    """Fit a multilevel model written as in lme4, e.g.
    `fit("y ~ x + (1 + x | g)", df)`. See the README for every option.

    method: "sample" (NUTS, the default), "optimize" (the penalised maximum
    likelihood; jacobian=True gives the posterior mode on the unconstrained
    scale), or the approximations "laplace", "pathfinder" and "variational"
    (algorithm="meanfield" | "fullrank"), each taking `draws` and `iter`;
    pathfinder also num_paths."""
    started = time.perf_counter()
    chosen = method_options(method, draws, **method_settings)  # checked before any work
    model = design(formula, data, family, priors, weights)
    program = generate(model.spec)
    standata = make_standata(model, _prior_only(sample_prior))
    options = SamplerOptions(
        chains=chains,
        warmup=warmup,
        draws=draws,
        seed=seed,
        adapt_delta=adapt_delta,
        max_treedepth=max_treedepth,
        thin=thin,
        parallel_chains=parallel_chains,
        inits=inits,
        show_progress=progress,
    )
    result = _run(engine, executable_text(program), standata, options, chosen)
    idata = to_inference_data(model.spec, result, model.y)
    fitted = Fit(
        spec=model.spec,
        idata=idata,
        stan_code=program,
        stan_data=standata,
        design=model,
        max_treedepth=max_treedepth,
        timings={
            "compiled": result.compiled,
            "compile_seconds": result.compile_seconds,
            "sample_seconds": result.sample_seconds,
            "total_seconds": time.perf_counter() - started,
        },
    )
    if chosen.method == "sample":
        warn_problems(fitted.diagnostics, max_treedepth)
    else:
        warn_approximation(result.info)
    return fitted


def _run(engine: str, program: str, standata: dict[str, Any], options: SamplerOptions, chosen: MethodOptions) -> Draws:
    # Engines load their backends only when a fit runs.
    if chosen.method == "sample":
        from .engines import get_engine

        draws = get_engine(engine).sample(program, standata, options)
        if engine == "auto":
            draws.info["engine_reason"] = (
                "auto: stanli samples without compiling" if draws.engine == "stanli"
                else "auto: stanli cannot run this program"
            )
        return draws
    from .engines import ENGINE_NAMES
    from .engines.methods import run_method

    if engine not in ENGINE_NAMES:
        raise EngineError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINE_NAMES)}")
    seed = options.resolved_seed()
    return run_method(engine, program, standata, chosen, seed, options.inits)
