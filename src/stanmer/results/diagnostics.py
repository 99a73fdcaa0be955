"""Sampling problems as warnings that name the problem and the usual fix."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import xarray as xr

RHAT_LIMIT = 1.01
ESS_LIMIT = 400  # total over chains, as Vehtari et al. (2021) advise


class SamplingWarning(UserWarning):
    """The sampler finished but its draws may not be trustworthy."""


@dataclass(frozen=True)
class Diagnostics:
    divergences: int
    treedepth_hits: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    n_draws: int

    def problems(self, max_treedepth: int) -> list[str]:
        found = []
        if self.divergences:
            found.append(
                f"{self.divergences} of {self.n_draws} post-warmup transitions diverged: the posterior "
                "may be biased. Raise adapt_delta (e.g. fit(..., adapt_delta=0.95)) or use tighter priors."
            )
        if self.treedepth_hits:
            found.append(
                f"{self.treedepth_hits} transitions hit the maximum tree depth ({max_treedepth}): "
                f"sampling was slow, not wrong. Raise max_treedepth (e.g. {max_treedepth + 2})."
            )
        if self.max_rhat > RHAT_LIMIT:
            found.append(
                f"largest R-hat is {self.max_rhat:.3f} (> {RHAT_LIMIT}): chains disagree. "
                "Run longer (more warmup and draws) and check the model."
            )
        low = min(self.min_ess_bulk, self.min_ess_tail)
        if low < ESS_LIMIT:
            found.append(
                f"smallest effective sample size is {low:.0f} (< {ESS_LIMIT}): intervals are imprecise. "
                "Run more draws."
            )
        return found

    def as_dict(self) -> dict[str, float]:
        return {
            "divergences": self.divergences,
            "treedepth_hits": self.treedepth_hits,
            "max_rhat": self.max_rhat,
            "min_ess_bulk": self.min_ess_bulk,
            "min_ess_tail": self.min_ess_tail,
        }


def diagnose(sample_stats: dict[str, np.ndarray], posterior: xr.Dataset, max_treedepth: int) -> Diagnostics:
    """Sampler statistics, and R-hat and ESS over every sampled quantity,
    the group effects of each level included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant entries (a correlation's diagonal) have no R-hat
        rhat = az.rhat(posterior)
        bulk, tail = az.ess(posterior, method="bulk"), az.ess(posterior, method="tail")
    return Diagnostics(
        divergences=int(np.sum(sample_stats["diverging"])),
        treedepth_hits=int(np.sum(sample_stats["tree_depth"] >= max_treedepth)),
        max_rhat=_extreme(np.nanmax, rhat),
        min_ess_bulk=_extreme(np.nanmin, bulk),
        min_ess_tail=_extreme(np.nanmin, tail),
        n_draws=int(sample_stats["diverging"].size),
    )


def _extreme(reduce, values: xr.Dataset) -> float:
    found = [reduce(v.values) for v in values.data_vars.values() if v.size and not np.all(np.isnan(v.values))]
    return float(reduce(found)) if found else float("nan")


PARETO_K_LIMIT = 0.7  # above it, importance-weighted estimates are unreliable (Vehtari et al., 2024)


class ApproximationWarning(UserWarning):
    """An approximation of the posterior that is visibly far from it."""


def approximation_problems(attrs) -> list[str]:
    k = attrs.get("pareto_k")
    if k is None or not k > PARETO_K_LIMIT:
        return []
    return [
        f"Pareto k of the {attrs.get('method')} approximation is {k:.2f} (> {PARETO_K_LIMIT}): "
        "its draws are far from the posterior. Check the estimates with method='sample'."
    ]


def warn_approximation(info) -> None:
    for problem in approximation_problems(info):
        warnings.warn(problem, ApproximationWarning, stacklevel=3)


def warn_problems(diagnostics: Diagnostics, max_treedepth: int) -> None:
    for problem in diagnostics.problems(max_treedepth):
        warnings.warn(problem, SamplingWarning, stacklevel=3)
