"""Plots of a fit: trace, caterpillar of group effects, predictions.

Each function takes a `Fit` and returns matplotlib axes. matplotlib and
ArviZ's plotting are imported only when a plot is asked for, so fitting
never pays for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import OptionError, PredictionError
from ..frames import as_pandas
from .idata import coef_dim


def plot_trace(fit, var_names: list[str] | None = None, **options: Any):
    """arviz.plot_trace of the reported parameters (population effects,
    group sds and correlations, family parameters); group effects are left
    out by default because there is one per level. Returns the axes array
    (one row per variable: density, trace)."""
    import arviz as az

    return az.plot_trace(reported_draws(fit, var_names), **options)


def reported_draws(fit, var_names: list[str] | None = None) -> xr.Dataset:
    """The posterior variables `print(fit)` reports, in its order (or
    `var_names`). A correlation matrix becomes its distinct pairs: the
    diagonal is 1 in every draw and the lower triangle repeats the upper."""
    posterior = fit.idata.posterior
    if var_names is None:
        var_names = ["b"]
        for factor in fit.spec.factors:
            var_names += [name for name in (f"sd_{factor}", f"cor_{factor}") if name in posterior]
        var_names += [name for name in fit.spec.family.aux if name in posterior]
    correlations = {f"cor_{factor}": factor for factor in fit.spec.factors}
    return xr.Dataset(
        {
            name: _distinct_pairs(posterior[name], correlations[name]) if name in correlations else posterior[name]
            for name in var_names
        }
    )


def _distinct_pairs(matrix: xr.DataArray, factor: str) -> xr.DataArray:
    """(chain, draw, coef, coef2) correlations → (chain, draw, pair), upper triangle."""
    first, second = coef_dim(factor), f"{coef_dim(factor)}2"
    names = [str(c) for c in matrix[first].values]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    columns = [matrix.sel({first: a, second: b}, drop=True) for a, b in pairs]
    labels = [f"{a},{b}" for a, b in pairs]
    return xr.concat(columns, dim=f"{factor}__pair").assign_coords({f"{factor}__pair": labels})


def plot_ranef(fit, factor: str | None = None, prob: float = 0.95, axes=None):
    """Caterpillar plot: each level's group effect (posterior mean and
    equal-tailed `prob` interval), sorted by the mean, one panel per factor
    and coefficient. Returns a 1-d array of axes."""
    import matplotlib.pyplot as plt

    tables = fit.ranef(prob)
    factors = list(tables) if factor is None else [factor]
    unknown = [f for f in factors if f not in tables]
    if unknown:
        raise ValueError(f"no group term on {unknown[0]!r}; the model's factors are {list(tables)}")
    panels = [(f, coef) for f in factors for coef in tables[f].index.unique("coef")]
    if axes is None:
        heights = [len(tables[f].index.unique("level")) for f, _ in panels]
        _, axes = plt.subplots(
            1, len(panels), figsize=(4.5 * len(panels), max(3.0, 0.22 * max(heights) + 1)), squeeze=False
        )
    axes = np.asarray(axes).ravel()
    if axes.size != len(panels):
        raise ValueError(f"plot_ranef draws {len(panels)} panels ({panels}); pass that many axes, got {axes.size}")
    lower, upper = _interval_columns(prob)
    for ax, (name, coef) in zip(axes, panels):
        rows = tables[name].xs(coef, level="coef").sort_values("mean")
        position = np.arange(len(rows))
        ax.hlines(position, rows[lower], rows[upper], color="C0", lw=1.5)
        ax.plot(rows["mean"], position, "o", color="C0", ms=4)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(position, rows.index)
        ax.set_title(f"{name}: {coef}")
        ax.set_xlabel(f"group effect (mean, {prob:.0%} interval)")
    return axes


def plot_predictions(
    fit,
    newdata: pd.DataFrame | None = None,
    x: str | None = None,
    by: str | None = None,
    prob: float = 0.95,
    ax=None,
    **predict_options: Any,
):
    """Predictions (posterior mean and equal-tailed `prob` interval, from
    `Fit.predict`) for the rows of newdata against column `x`: a line and
    band for a numeric x, a point and bar per value otherwise (and for a
    grouping column, numeric or not). `by` splits the rows into one
    coloured series per value of another column. Rows of newdata that carry
    the response also show it, as a cross over their prediction.
    `predict_options` (kind, new_levels, re_formula, draws, seed) go to
    `Fit.predict`. Returns the Axes."""
    import matplotlib.pyplot as plt

    rows = fit.design.data if newdata is None else as_pandas(newdata, "newdata", PredictionError)
    if x is None or x not in rows:
        raise ValueError(f"x must name a column of newdata to plot against, got {x!r}; columns: {list(rows.columns)}")
    if by is not None and by not in rows:
        raise ValueError(f"by must name a column of newdata, got {by!r}; columns: {list(rows.columns)}")
    if fit.spec.family.definition.ordinal and predict_options.get("kind", "mean") != "linpred":
        raise OptionError(
            "plot_predictions draws one number per row; an ordinal model predicts a probability per category. "
            "Plot kind='linpred', or the category probabilities of fit.predict(newdata, kind='mean')"
        )
    table = fit.predict_summary(newdata, prob=prob, **predict_options)
    lower, upper = _interval_columns(prob)
    table[x] = rows[x].to_numpy()
    table["series"] = rows[by].to_numpy() if by is not None else ""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    grouping_columns = {column for factor in fit.spec.factors for column in factor.split(":")}
    numeric = pd.api.types.is_numeric_dtype(rows[x]) and x not in grouping_columns  # grouping columns are factors
    categories = None if numeric else list(dict.fromkeys(rows[x]))
    series = list(dict.fromkeys(table["series"]))
    table["position"] = table[x] if numeric else [float(categories.index(v)) for v in table[x]]
    # side by side only where one value of x has rows in several series
    shared = not numeric and table.groupby(x)["series"].nunique().max() > 1
    for k, value in enumerate(series):
        part = table[table["series"] == value]
        color = f"C{k % 10}"
        label = str(value) if by is not None else "predicted"
        if numeric:
            part = part.sort_values(x)
            ax.fill_between(part[x], part[lower], part[upper], color=color, alpha=0.25, lw=0)
            ax.plot(part[x], part["mean"], color=color, lw=2, label=label)
        else:
            if shared:
                table.loc[part.index, "position"] += (k - (len(series) - 1) / 2) * 0.6 / len(series)
            part = table.loc[part.index]
            ax.errorbar(
                part["position"], part["mean"], yerr=[part["mean"] - part[lower], part[upper] - part["mean"]],
                fmt="o", color=color, ms=5, capsize=2, label=label,
            )
    if fit.spec.response in rows:
        ax.plot(table["position"], rows[fit.spec.response].to_numpy(), "x", color="black", ms=6, label="observed")
    if not numeric:
        ax.set_xticks(range(len(categories)), [str(c) for c in categories], rotation=60, ha="right")
    ax.set_xlabel(x)
    kind = predict_options.get("kind", "mean")
    ax.set_ylabel(f"{fit.spec.response} ({kind}, {prob:.0%} interval)")
    ax.legend(title=by)
    return ax


def _interval_columns(prob: float) -> tuple[str, str]:
    """The interval column names `summarize_draws` gives for `prob`."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must lie strictly between 0 and 1, got {prob}")
    low = (1 - prob) / 2
    return f"q{100 * low:g}", f"q{100 * (1 - low):g}"

