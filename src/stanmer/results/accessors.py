"""lme4/brms-style tables of a fit (fixef, ranef, coef, VarCorr) and pp_check.

Every table summarises posterior draws the same way: mean, sd and an
equal-tailed interval (columns named as in `Fit.summary`, e.g. q2.5, q97.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..errors import OptionError
from ..spec import ModelSpec
from .idata import coef_dim


def summarize_draws(draws: np.ndarray, index: pd.Index, prob: float = 0.95) -> pd.DataFrame:
    """Summary of (n_draws, n_items) draws, one row per item."""
    if not 0 < prob < 1:
        raise OptionError(f"prob must lie strictly between 0 and 1, got {prob}")
    lower, upper = (1 - prob) / 2, 1 - (1 - prob) / 2
    return pd.DataFrame(
        {
            "mean": draws.mean(axis=0),
            "sd": draws.std(axis=0, ddof=1),
            f"q{100 * lower:g}": np.quantile(draws, lower, axis=0),
            f"q{100 * upper:g}": np.quantile(draws, upper, axis=0),
        },
        index=index,
    )


def fixef(posterior: xr.Dataset, prob: float = 0.95) -> pd.DataFrame:
    """Population-level effects, one row per coefficient."""
    index = pd.Index([str(c) for c in posterior["coef"].values], name="coef")
    return summarize_draws(flat_draws(posterior["b"]), index, prob)


def ranef(spec: ModelSpec, posterior: xr.Dataset, prob: float = 0.95) -> dict[str, pd.DataFrame]:
    """Group-level effects per factor, rows indexed by (level, coef)."""
    return {factor: _per_level(factor, posterior[f"r_{factor}"], prob) for factor in spec.factors}


def coef(spec: ModelSpec, posterior: xr.Dataset, prob: float = 0.95) -> dict[str, pd.DataFrame]:
    """Population + group effect per level (summed draw by draw), for the
    coefficients that vary by the factor and are also population effects.

    In an ordinal model the intercept is the thresholds and P(y <= k) =
    F(threshold_k - eta), so a level's intercept effect moves every threshold
    the other way: its thresholds are b[Intercept[k]] - r[Intercept] (as brms)."""
    population = [str(c) for c in posterior["coef"].values]
    thresholds = list(spec.intercepts) if spec.family.definition.ordinal else []
    tables = {}
    for factor in spec.factors:
        cdim = coef_dim(factor)
        effects = posterior[f"r_{factor}"]
        shared = [c for c in effects[cdim].values if c in population]
        population_draws = posterior["b"].sel(coef=shared).rename(coef=cdim)
        combined = [effects.sel({cdim: shared}) + population_draws]
        if thresholds and "Intercept" in effects[cdim].values:
            level_thresholds = posterior["b"].sel(coef=thresholds).rename(coef=cdim) - effects.sel({cdim: "Intercept"})
            combined.insert(0, level_thresholds)
        tables[factor] = _per_level(factor, xr.concat(combined, dim=cdim), prob)
    return tables


def varcorr(spec: ModelSpec, posterior: xr.Dataset, prob: float = 0.95) -> pd.DataFrame:
    """Group-level sds and correlations per factor, then the family's
    auxiliary parameters (e.g. the residual sd), rows indexed by (group, name)."""
    labels, draws = [], []
    for factor in spec.factors:
        cdim = coef_dim(factor)
        sds = posterior[f"sd_{factor}"]
        for name in sds[cdim].values:
            labels.append((factor, f"sd({name})"))
            draws.append(flat_draws(sds.sel({cdim: name})))
        for _, term in spec.terms_of(factor):  # effects of different terms are independent: no pairs across them
            for first, second in term.kind.correlation_pairs(term):
                labels.append((factor, f"cor({first},{second})"))
                draws.append(flat_draws(posterior[f"cor_{factor}"].sel({cdim: first, f"{cdim}2": second})))
    for name in spec.family.aux:
        labels.append(("Family", name))
        draws.append(flat_draws(posterior[name]))
    index = pd.MultiIndex.from_tuples(labels, names=["group", "name"])
    return summarize_draws(np.column_stack(draws), index, prob)


def pp_check(
    observed: np.ndarray,
    replicated: np.ndarray,
    label: str,
    discrete: bool,
    n: int = 50,
    ax=None,
    seed: int | None = None,
):
    """The observed distribution over `n` replicated ones (rows of
    `replicated`): densities, or for a discrete response the share of each value."""
    import matplotlib.pyplot as plt  # plotting is optional: import only when asked

    if ax is None:
        _, ax = plt.subplots()
    rng = np.random.default_rng(seed)
    chosen = replicated[rng.choice(replicated.shape[0], size=min(n, replicated.shape[0]), replace=False)]
    draw = _value_shares if discrete else _densities
    grid, observed_curve, replicated_curves = draw(observed, chosen)
    for k, curve in enumerate(replicated_curves):
        ax.plot(grid, curve, color="C0", alpha=0.2, lw=0.8, label="replicated" if k == 0 else None)
    ax.plot(grid, observed_curve, color="black", lw=2, label="observed")
    ax.set_xlabel(label)
    ax.set_ylabel("share of rows" if discrete else "density")
    ax.legend()
    return ax


def _densities(observed: np.ndarray, replicated: np.ndarray):
    low = min(observed.min(), np.quantile(replicated, 0.005))
    high = max(observed.max(), np.quantile(replicated, 0.995))
    grid = np.linspace(low, high, 256)
    return grid, stats.gaussian_kde(observed)(grid), [stats.gaussian_kde(row)(grid) for row in replicated]


def _value_shares(observed: np.ndarray, replicated: np.ndarray):
    """Kernel densities fail on 0/1 data; the share of each whole value does not."""
    grid = np.arange(min(observed.min(), replicated.min()), max(observed.max(), replicated.max()) + 1)

    def shares(values):
        return np.bincount((values - grid[0]).astype(np.int64), minlength=grid.size) / values.size

    return grid, shares(observed), [shares(row) for row in replicated]


def _per_level(factor: str, effects: xr.DataArray, prob: float) -> pd.DataFrame:
    """(chain, draw, level, coef) draws → one row per (level, coef)."""
    cdim = coef_dim(factor)
    ordered = effects.transpose("chain", "draw", factor, cdim)
    index = pd.MultiIndex.from_product(
        [[str(v) for v in ordered[factor].values], [str(v) for v in ordered[cdim].values]], names=["level", "coef"]
    )
    flat = ordered.values.reshape(-1, len(index))
    return summarize_draws(flat, index, prob)


def flat_draws(values: xr.DataArray) -> np.ndarray:
    """(chain, draw, ...) → (chain * draw, ...)."""
    array = values.transpose("chain", "draw", ...).values
    return array.reshape(array.shape[0] * array.shape[1], *array.shape[2:])  # -1 is ambiguous for size 0
