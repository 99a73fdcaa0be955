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

from ..formula import Design
from ..priors import prior_table
from ..spec import ModelSpec
from .diagnostics import Diagnostics, diagnose
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

    def summary(self, prob: float = 0.95) -> pd.DataFrame:
        """One row per reported parameter: mean, sd, interval, R-hat, ESS."""
        if prob == 0.95:
            return self._summary_95.copy()
        return summarize(self.spec, self.idata, prob)

    @cached_property
    def _summary_95(self) -> pd.DataFrame:
        return summarize(self.spec, self.idata, 0.95)

    @cached_property
    def diagnostics(self) -> Diagnostics:
        stats = {name: self.idata.sample_stats[name].values for name in ("diverging", "tree_depth")}
        return diagnose(stats, self._summary_95, self.max_treedepth)

    @property
    def priors(self) -> pd.DataFrame:
        """The priors this fit used (class, coef, group, prior, source)."""
        return prior_table(self.spec.priors)

    def report(self, prob: float = 0.95) -> str:
        spec, post = self.spec, self.idata.posterior
        n_draws = post.sizes["chain"] * post.sizes["draw"]
        levels = "; ".join(f"{f}, {len(spec.terms_of(f)[0][1].levels)}" for f in spec.factors)
        header = [
            f" Family: {spec.family.name}",
            f"  Links: mu = {spec.family.link}",
            f"Formula: {spec.formula}",
            f"   Data: {spec.n_obs} observations" + (f"; groups: {levels}" if levels else ""),
            f"  Draws: {post.sizes['chain']} chains x {post.sizes['draw']} draws = {n_draws} post-warmup "
            f"(engine: {self.idata.attrs.get('engine')})",
        ]
        text = format_report(spec, self.summary(prob), header)
        problems = self.diagnostics.problems(self.max_treedepth)
        footer = ["", f"Intervals are equal-tailed {prob:.0%}."]
        footer += [f"Warning: {p}" for p in problems] or ["No divergences; all R-hat <= 1.01."]
        return text + "\n" + "\n".join(footer)

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return f"<stanmer.Fit {self.spec.formula} ({self.spec.family}), {self.spec.n_obs} obs>"
