"""Fit: the posterior of one model, with its spec, program and data.

It knows nothing of how the draws were made: engines hand over plain
`Draws`, and everything here reads the InferenceData built from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import arviz as az
import pandas as pd
import xarray as xr

from ..formula import Design
from ..priors import prior_table
from ..spec import ModelSpec
from . import accessors, plots
from . import predict as prediction
from ..errors import OptionError, PredictionError
from ..warm_start import Adaptation
from .diagnostics import Diagnostics, approximation_problems, diagnose
from .summary import format_report, summarize


@dataclass
class Fit:
    spec: ModelSpec
    idata: az.InferenceData
    stan_code: str
    stan_data: dict[str, Any]
    design: Design = field(repr=False)
    max_treedepth: int = 10
    timings: dict[str, float | bool] = field(default_factory=dict)  # seconds, and whether it compiled
    # What NUTS adapted and where its chains ended, for warm-started refits (None for other methods).
    adaptation: Adaptation | None = field(default=None, repr=False)

    def update(self, data: pd.DataFrame | None = None, priors=None, **options: Any) -> Fit:
        """Refit the same formula and family to new data and/or priors, as
        brms's update(): the program is reused (no compile) and NUTS starts
        from this fit's adaptation (`stanmer.fit(..., warm_start=self)`), so a
        300-iteration warmup replaces the usual 1000 (100 when the data are
        the same, e.g. only the priors changed). `options` are
        stanmer.fit's (engine, chains, draws, seed, warmup, weights, ...);
        the engine defaults to this fit's, priors to the ones set by hand."""
        from ..api import fit
        from ..model_formula import bf

        if data is not None and self.design.weights is not None and "weights" not in options:
            raise OptionError(
                "this fit used likelihood weights; pass weights= for the new data (a column name or one number per row)"
            )
        options.setdefault("engine", self.idata.attrs.get("engine", "auto"))
        options.setdefault("weights", self.design.weights if data is None else None)
        options.setdefault("warm_start", self if self.adaptation is not None else None)  # cold after other methods
        chosen = priors if priors is not None else [p for p in self.spec.priors if p.source == "user"]
        formula = bf(self.spec.formula, **{part.name: part.formula for part in self.spec.aux_parts})
        return fit(formula, self.design.data if data is None else data, self.spec.family, chosen, **options)

    def summary(self, prob: float = 0.95) -> pd.DataFrame:
        """One row per reported parameter: mean, sd, interval, R-hat, ESS
        (a DataFrame that prints all its rows and columns)."""
        if prob == 0.95:
            return self._summary_95.copy()
        return summarize(self.spec, self.idata, prob)

    @cached_property
    def _summary_95(self) -> pd.DataFrame:
        return summarize(self.spec, self.idata, 0.95)

    @property
    def method(self) -> str:
        """How the draws were made: "sample" (NUTS), "optimize", "laplace",
        "pathfinder" or "variational"."""
        return self.idata.attrs.get("method", "sample")

    @cached_property
    def diagnostics(self) -> Diagnostics:
        if self.method != "sample":  # no Markov chains: nothing of NUTS's to diagnose
            n_draws = self.idata.posterior.sizes["chain"] * self.idata.posterior.sizes["draw"]
            return Diagnostics(0, 0, float("nan"), float("nan"), float("nan"), n_draws)
        stats = {name: self.idata.sample_stats[name].values for name in ("diverging", "tree_depth")}
        return diagnose(stats, self.idata.posterior, self.max_treedepth)

    def loo(self, **options: Any):
        """PSIS-LOO (arviz.loo) from the pointwise log-likelihood, computed first if missing."""
        if self.method == "optimize":
            raise PredictionError(
                "loo needs draws, and method='optimize' gives one point estimate.\n"
                "Hint: refit with method='sample' (or 'laplace' for approximate draws)."
            )
        if "log_likelihood" not in self.idata.groups():
            self.log_likelihood()
        return az.loo(self.idata, **options)

    @property
    def priors(self) -> pd.DataFrame:
        """The priors this fit used (class, coef, group, prior, source)."""
        return prior_table(self.spec.priors)

    def report(self, prob: float = 0.95) -> str:
        spec, post = self.spec, self.idata.posterior
        n_draws = post.sizes["chain"] * post.sizes["draw"]
        levels = "; ".join(f"{f}, {len(spec.terms_of(f)[0][1].levels)}" for f in spec.factors)
        engine = self.idata.attrs.get("engine")
        reason = self.idata.attrs.get("engine_reason")
        engine_text = f"engine: {engine}" + (f", {reason}" if reason and reason != "chosen" else "")
        header = [
            f" Family: {spec.family.name}",
            "  Links: " + "; ".join([f"mu = {spec.family.link}"] + [f"{p.name} = {p.link}" for p in spec.aux_parts]),
            f"Formula: {spec.formula}",
            *(f"         {part.name} {part.formula}" for part in spec.aux_parts),
            f"   Data: {spec.n_obs} observations" + (f"; groups: {levels}" if levels else ""),
            self._draws_line(n_draws, engine_text),
        ]
        table = self.summary(prob)
        if self.method == "optimize":
            table = table[["section", "label", "mean"]]
        text = format_report(spec, table, header)
        return text + "\n" + "\n".join(["", *self._footer(prob)])

    def _draws_line(self, n_draws: int, engine_text: str) -> str:
        post, attrs = self.idata.posterior, self.idata.attrs
        if self.method == "sample":
            return (
                f"  Draws: {post.sizes['chain']} chains x {post.sizes['draw']} draws = {n_draws} "
                f"post-warmup ({engine_text})"
            )
        if self.method == "optimize":
            objective = (
                "posterior mode on the unconstrained scale (Jacobian included)"
                if attrs.get("jacobian") else "penalised maximum likelihood (no Jacobian)"
            )
            return f" Method: optimize, the {objective}; a point estimate ({engine_text})"
        k = attrs.get("pareto_k")
        diagnostic = f"; Pareto k = {k:.2f}" if k is not None else ""
        return f" Method: {self.method}, {n_draws} APPROXIMATE draws{diagnostic} ({engine_text})"

    def _footer(self, prob: float) -> list[str]:
        joint_mode = (
            ["Note: with group terms this is the joint mode over group effects and their sds, not "
             "lme4's estimate (which integrates the effects out); sds come out inflated when groups "
             "have few rows."]
            if self.spec.factors and self.method in ("optimize", "laplace") else []
        )
        if self.method == "optimize":
            return ["Estimates are the optimum itself: no uncertainty is available from optimize."] + joint_mode
        if self.method != "sample":
            problems = approximation_problems(self.idata.attrs)
            return [
                f"Intervals are equal-tailed {prob:.0%} of the {self.method} approximation, not of "
                "the posterior: the draws are approximate, and R-hat and ESS do not apply."
            ] + joint_mode + [f"Warning: {p}" for p in problems]
        problems = self.diagnostics.problems(self.max_treedepth)
        footer = [f"Intervals are equal-tailed {prob:.0%}."]
        return footer + ([f"Warning: {p}" for p in problems] or ["No divergences; all R-hat <= 1.01."])

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        """The notebook display: model, engine and time, estimates, diagnostics."""
        from .display import fit_html

        return fit_html(self)

    # --- predictions (numpy, from the posterior; see results/predict.py) ---

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        kind: str = "mean",
        new_levels: str = "sample",
        re_formula: str | None = None,
        draws: int | None = None,
        seed: int | None = None,
    ) -> xr.DataArray:
        """Posterior draws (chain, draw, obs) of predictions for newdata
        (the training rows if None). kind: "linpred", "mean" (inverse link)
        or "response" (draws of new observations). new_levels: "sample"
        (draw unseen levels from the fitted group distribution), "zero"
        (population level, as lme4) or "error". re_formula: None for every
        group term, "~0" for none, "~(1 | g)" for the terms grouped by g.
        draws: use about that many posterior draws, evenly thinned."""
        return prediction.predict(self, newdata, kind, new_levels, re_formula, draws, seed)

    def predict_summary(self, newdata: pd.DataFrame | None = None, prob: float = 0.95, **options: Any) -> pd.DataFrame:
        """Mean, sd and equal-tailed interval of `predict` per row of newdata."""
        return prediction.predict_summary(self, newdata, prob, **options)

    def posterior_predictive(self, seed: int | None = None) -> xr.DataArray:
        """Add replicated responses of the training rows (for arviz.plot_ppc) and
        the pointwise log-likelihood (for arviz.loo) to idata."""
        return prediction.posterior_predictive(self, seed)

    def log_likelihood(self) -> xr.DataArray:
        """Add the pointwise log-likelihood to idata (for arviz.loo and arviz.waic)."""
        return prediction.log_likelihood(self)

    # --- lme4/brms-style tables (see results/accessors.py) ---

    def fixef(self, prob: float = 0.95) -> pd.DataFrame:
        return accessors.fixef(self.idata.posterior, prob)

    def ranef(self, prob: float = 0.95) -> dict[str, pd.DataFrame]:
        return accessors.ranef(self.spec, self.idata.posterior, prob)

    def coef(self, prob: float = 0.95) -> dict[str, pd.DataFrame]:
        return accessors.coef(self.spec, self.idata.posterior, prob)

    def varcorr(self, prob: float = 0.95) -> pd.DataFrame:
        return accessors.varcorr(self.spec, self.idata.posterior, prob)

    def pp_check(self, n: int = 50, ax=None, seed: int | None = None):
        """Observed density over `n` replicated ones (from idata's
        posterior_predictive, computed first if missing); returns the Axes."""
        if "posterior_predictive" not in self.idata.groups():
            self.posterior_predictive(seed)
        replicated = accessors.flat_draws(self.idata.posterior_predictive[self.spec.response])
        discrete = self.spec.family.discrete
        return accessors.pp_check(self.design.y, replicated, self.spec.response, discrete, n, ax, seed)

    # --- plots (see results/plots.py); each returns matplotlib axes ---

    def plot_trace(self, var_names: list[str] | None = None, **options: Any):
        """arviz.plot_trace of the reported parameters (or `var_names`)."""
        return plots.plot_trace(self, var_names, **options)

    def plot_ranef(self, factor: str | None = None, prob: float = 0.95, axes=None):
        """Caterpillar plot of the group effects, one panel per factor and coefficient."""
        return plots.plot_ranef(self, factor, prob, axes)

    def plot_predictions(
        self, newdata: pd.DataFrame | None = None, x: str | None = None, by: str | None = None,
        prob: float = 0.95, ax=None, **predict_options: Any,
    ):
        """Predictions with intervals for newdata against column `x`, one series per value of `by`."""
        return plots.plot_predictions(self, newdata, x, by, prob, ax, **predict_options)

    def save(self, directory, overwrite: bool = False) -> None:
        """Write the fit to a folder (netCDF draws, program, data, training rows,
        summary, meta.json); `stanmer.load(directory)` reads it back. A folder
        that already holds a saved fit is replaced only with `overwrite=True`."""
        from .persist import save_fit  # persist imports this module

        save_fit(self, directory, overwrite=overwrite)

    def __repr__(self) -> str:
        return f"<stanmer.Fit {self.spec.formula} ({self.spec.family}), {self.spec.n_obs} obs>"
