"""The public entry points: one pipeline, formula → spec → program + data
→ engine → draws → Fit."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import pandas as pd

from .errors import EngineError, OptionError
from .families import Family
from .formula import Design, build_design
from .formula.design import Weights
from .parametrisation import Centered, centered_of
from .pipeline import build_model, is_prior_only
from .priors import Prior, prior_table
from .ridges import with_effects
from .methods import MethodOptions, method_options
from .model_formula import ModelFormula
from .sampling import DEFAULT_ENGINE, Draws, SamplerOptions
from .warm_start import Adaptation, cold_options, warm_options

if TYPE_CHECKING:
    from .results import Fit

_DEFAULT = SamplerOptions()


def design(
    formula: str | ModelFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors: Iterable[Prior] | None = None,
    weights: Weights = None,
) -> Design:
    """The model as stanmer reads it, without program or draws."""
    return build_design(formula, data, family, priors, weights)


def stan_code(
    formula: str | ModelFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors=None,
    weights: Weights = None,
    centered: Centered = None,
) -> str:
    """The Stan program `fit` would run, with comments naming the terms."""
    return build_model(design(formula, data, family, priors, weights), centered=centered).program


def stan_data(
    formula: str | ModelFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors=None,
    weights: Weights = None,
    sample_prior: str = "no",
    centered: Centered = None,
) -> dict[str, Any]:
    """The data dict `fit` would hand to Stan."""
    prior_only = is_prior_only(sample_prior)
    return build_model(design(formula, data, family, priors, weights), prior_only, centered).standata


def default_priors(formula: str | ModelFormula, data: pd.DataFrame, family: str | Family = "gaussian") -> pd.DataFrame:
    """The priors stanmer would use, as a table (like brms's get_prior)."""
    return prior_table(design(formula, data, family).spec.priors)


def fit(
    formula: str | ModelFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors: Iterable[Prior] | None = None,
    *,
    weights: Weights = None,
    centered: Centered = None,
    engine: str = DEFAULT_ENGINE,
    chains: int = _DEFAULT.chains,
    warmup: int | None = None,
    draws: int = _DEFAULT.draws,
    seed: int | None = _DEFAULT.seed,
    adapt_delta: float = _DEFAULT.adapt_delta,
    max_treedepth: int = _DEFAULT.max_treedepth,
    thin: int = _DEFAULT.thin,
    parallel_chains: int | None = _DEFAULT.parallel_chains,
    inits: Mapping[str, Any] | list[Mapping[str, Any]] | float | None = _DEFAULT.inits,
    sample_prior: str = "no",
    progress: bool = True,
    verbose: bool = False,
    method: str = "sample",
    warm_start: Fit | Adaptation | None = None,
    **method_settings: Any,
) -> Fit:
    """Fit a multilevel model written as in lme4, e.g.
    `fit("y ~ x + (1 + x | g)", df)`, or with formulas for the family's
    auxiliary parameters, `fit(bf("y ~ x", sigma="~ x"), df)`. See the
    README for every option.

    method: "sample" (NUTS, the default), "optimize" (the penalised maximum
    likelihood; jacobian=True gives the posterior mode on the unconstrained
    scale), or the approximations "laplace", "pathfinder" and "variational"
    (algorithm="meanfield" | "fullrank"), each taking `draws` and `iter`;
    pathfinder also num_paths.

    centered: how each group term is parametrised. None (default) chooses
    per term from the data: centred (sample the effects) where every level's
    data pin its effect, non-centred (sample standardised effects) otherwise;
    the program's comments say which and why. True or False sets every term;
    {factor or term label: bool} sets those terms, e.g. {"g": True}. A
    Gaussian model with intercept-only terms and few levels gets a program
    that integrates the effects out (nothing to parametrise) unless
    centered is set.

    progress shows one live progress display for all chains; verbose
    shows the engine's own messages (compiler output, Stan's
    informational messages), which are otherwise shown only on failure.

    warm_start: an earlier fit of the same formula and family (other data
    or priors, e.g. `fit.update(new_data)`): NUTS starts from its adapted
    metric, step size and last draws, and warmup defaults to 300 iterations
    (the metric adapted again from the earlier one) instead of 1000, or to
    100 (step size only) when the data are the same (other priors, more
    draws)."""
    started = time.perf_counter()
    # Every option is checked before the formula is read or anything compiles.
    chosen = method_options(method, draws, **method_settings)
    earlier_terms = ()
    if warm_start is not None and not isinstance(warm_start, Adaptation):
        earlier_terms = warm_start.spec.group_terms
        warm_start = warm_start.adaptation
        if warm_start is None:
            raise OptionError(
                "warm_start takes a fit made by NUTS (method='sample'); this one was made by another method.\n"
                "Hint: drop warm_start, or pass a fit made with method='sample'."
            )
    if warm_start is not None and chosen.method != "sample":
        raise OptionError(
            f"warm_start starts NUTS from an earlier fit, so it needs method='sample', not {chosen.method!r}.\n"
            "Hint: drop warm_start for this method."
        )
    options = SamplerOptions(
        chains=chains,
        warmup=_DEFAULT.warmup if warmup is None else warmup,
        draws=draws,
        seed=seed,
        adapt_delta=adapt_delta,
        max_treedepth=max_treedepth,
        thin=thin,
        parallel_chains=parallel_chains,
        inits=inits,
        show_progress=progress,
        verbose=verbose,
    )
    prior_only = is_prior_only(sample_prior)
    from .results import Fit, to_inference_data  # results load ArviZ: not needed for a program or its data
    from .results.diagnostics import warn_approximation, warn_problems
    from .results.idata import check_names

    described = design(formula, data, family, priors, weights)
    if centered is None:
        centered = _parametrisation_of(earlier_terms, described)
    model = build_model(described, prior_only, centered, chosen.method == "sample")
    check_names(model.design.spec)
    if warm_start is not None:
        options = warm_options(warm_start, model.executable, model.standata, options, warmup)
    elif model.start is not None and chosen.method == "sample":
        options = cold_options(model.start, model.executable, model.standata, options)
    result = _run(engine, model.executable, model.standata, options, chosen)
    if model.ridge_free:
        result = dataclasses.replace(result, variables=with_effects(result.variables, model.standata, model.design.spec))
    idata = to_inference_data(model.design.spec, result, model.design.y)
    fitted = Fit(
        spec=model.design.spec,
        idata=idata,
        stan_code=model.program,
        stan_data=model.standata,
        design=model.design,
        max_treedepth=max_treedepth,
        adaptation=(
            Adaptation.from_draws(model.executable, model.standata, result, options.warmup)
            if chosen.method == "sample" else None
        ),
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


def _parametrisation_of(earlier_terms, described) -> list[bool] | None:
    """The earlier fit's centred/non-centred choices, for a warm start of the
    same terms: the rule might choose otherwise on new data, and another
    program could not start from the earlier one's adaptation."""
    same_terms = [t.label for t in earlier_terms] == [t.label for t in described.spec.group_terms]
    return centered_of(earlier_terms) if earlier_terms and same_terms else None


def _run(engine: str, program: str, standata: dict[str, Any], options: SamplerOptions, chosen: MethodOptions) -> Draws:
    # Engines load their backends only when a fit runs.
    from .engines import get_engine

    if chosen.method == "sample":
        draws = get_engine(engine).compile(program, options.show_progress, options.verbose).sample(standata, options)
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
    return run_method(engine, program, standata, chosen, options.resolved_seed(), options.inits)
