"""Draws (Stan names) → arviz.InferenceData (the model's own names).

Naming scheme of the posterior group:
- `b` (coef): population effects, "Intercept" first on the original scale
  (ordinal families: their thresholds "Intercept[1]", ... first), then those
  of each auxiliary parameter's formula (bf()) as brms names them,
  "sigma_Intercept", "sigma_x"
- `sd_<factor>` (<factor>__coef): sds of the group effects of a factor
- `cor_<factor>` (<factor>__coef, <factor>__coef2): their correlations
- `r_<factor>` (<factor>, <factor>__coef): effects per level (an auxiliary
  formula's coefficients prefixed with its parameter, "sigma_Intercept")
- family parameters by name, e.g. `sigma`
"""

from __future__ import annotations

import arviz as az
import numpy as np

from ..errors import FormulaError
from ..sampling import Draws
from ..spec import ModelSpec


def coef_dim(factor: str) -> str:
    return f"{factor}__coef"


def check_names(spec: ModelSpec) -> None:
    """Refuse, before sampling, a grouping factor or response whose name is
    one of the names above (xarray cannot hold both, e.g. a factor `chain`)."""
    posterior = [("b", "population effects"), ("chain", "a dimension"), ("draw", "a dimension"), ("coef", "a dimension")]
    posterior += [(name, f"family parameter {name}") for name in spec.family.aux]
    for factor in spec.factors:
        posterior += [(factor, f"grouping factor {factor!r}")]
        posterior += [(f"{kind}_{factor}", f"the {kind}_ effects of {factor!r}") for kind in ("sd", "r", "cor")]
        posterior += [(coef_dim(factor) + tail, f"the coefficients of {factor!r}") for tail in ("", "2")]
    coefs = _population_coefs(spec)
    repeated = sorted({c for c in coefs if coefs.count(c) > 1})
    if repeated:  # a column "sigma_x" beside x in sigma's formula
        raise FormulaError(
            f"the population effect name(s) {', '.join(map(repr, repeated))} occur twice in the results (an "
            "auxiliary formula's effects are prefixed with its parameter); rename that column of the data and refit"
        )
    observed = [("obs", "a dimension"), (spec.response, f"the response {spec.response!r}")]
    for names in (posterior, observed):
        seen: dict[str, str] = {}
        for name, meaning in names:
            if name in seen:
                raise FormulaError(
                    f"the name {name!r} is both {seen[name]} and {meaning} in the results; "
                    "rename that column of the data (e.g. add a suffix) and refit"
                )
            seen[name] = meaning


def to_inference_data(spec: ModelSpec, draws: Draws, y: np.ndarray) -> az.InferenceData:
    posterior, coords, dims = {}, {"coef": _population_coefs(spec)}, {"b": ["coef"]}
    posterior["b"] = _population_draws(spec, draws)
    for factor in spec.factors:
        terms = spec.terms_of(factor)
        coefs = [c for _, term in terms for c in term.names]
        levels = list(terms[0][1].levels)
        cdim = coef_dim(factor)
        coords[cdim] = coefs
        coords[factor] = levels
        posterior[f"sd_{factor}"] = np.concatenate(
            [term.kind.sd_draws(t, draws.variables) for t, term in terms], axis=-1
        )
        posterior[f"r_{factor}"] = np.concatenate(
            [term.kind.effect_draws(t, draws.variables) for t, term in terms], axis=-1
        )
        dims[f"sd_{factor}"] = [cdim]
        dims[f"r_{factor}"] = [factor, cdim]
        if any(term.kind.has_correlations for _, term in terms):
            posterior[f"cor_{factor}"] = _factor_correlations(terms, draws)
            coords[f"{cdim}2"] = coefs
            dims[f"cor_{factor}"] = [cdim, f"{cdim}2"]
    for name in spec.family.aux:
        posterior[name] = draws.variables[name]
    return az.from_dict(
        posterior=posterior,
        sample_stats=draws.sample_stats,
        observed_data={spec.response: y},
        coords={**coords, "obs": np.arange(len(y))},
        dims={**dims, spec.response: ["obs"]},
        attrs={
            "formula": spec.formula,
            "family": str(spec.family),
            "engine": draws.engine,
            "engine_version": draws.engine_version,
            "seed": draws.seed,
            **method_attrs(draws.info),
        },
    )


# What a method other than NUTS records about its run (netCDF attrs hold
# numbers and strings, so the Jacobian flag is stored as 0/1).
_METHOD_ATTRS = ("method", "engine_reason", "pareto_k", "jacobian", "algorithm", "num_paths", "mode_log_density")


def method_attrs(info: dict) -> dict:
    attrs = {"method": info.get("method", "sample")}
    for name in _METHOD_ATTRS[1:]:
        if info.get(name) is not None:
            value = info[name]
            attrs[name] = int(value) if isinstance(value, bool) else value
    return attrs


def _population_coefs(spec: ModelSpec) -> list[str]:
    return list(spec.intercepts) + list(spec.population) + [c for part in spec.aux_parts for c in part.coefficients]


def _population_draws(spec: ModelSpec, draws: Draws) -> np.ndarray:
    blocks = [_part_draws(draws, "b", "Intercept", spec.population, spec.has_intercept)]
    for part in spec.aux_parts:
        name = part.name
        blocks.append(_part_draws(draws, f"b_{name}", f"Intercept_{name}", part.population, part.has_intercept))
    return np.concatenate(blocks, axis=-1)


def _part_draws(draws: Draws, b: str, intercept: str, population, has_intercept: bool) -> np.ndarray:
    """One formula's population effects, intercept first."""
    if population:
        values = draws.variables[b]
    else:  # engines drop zero-length variables
        values = np.empty((draws.n_chains, draws.n_draws, 0))
    if has_intercept:
        first = draws.variables[intercept]  # ordinal thresholds: a vector per draw
        values = np.concatenate([first.reshape(*first.shape[:2], -1), values], axis=-1)
    return values


def _factor_correlations(terms, draws: Draws) -> np.ndarray:
    """One correlation matrix over all of a factor's coefficients; effects
    in different terms are independent by construction, so those are 0."""
    blocks = [term.kind.correlation_draws(t, draws.variables) for t, term in terms]
    total = sum(block.shape[-1] for block in blocks)
    cor = np.zeros((draws.n_chains, draws.n_draws, total, total))
    start = 0
    for block in blocks:
        size = block.shape[-1]
        cor[:, :, start : start + size, start : start + size] = block
        start += size
    return cor
