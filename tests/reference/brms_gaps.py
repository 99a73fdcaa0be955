"""stanmer's posterior beside a committed brms posterior: the tolerance and
the comparison every brms reference test applies (families, ordinal, ...)."""

from __future__ import annotations

import re

import pandas as pd

import stanmer

MEAN_TOLERANCE = 0.15  # brms posterior sds
SD_TOLERANCE = 0.15  # relative


def stanmer_name(brms_name: str) -> str:
    """brms's b_x, sd_g__Intercept, zi as stanmer names them: b[x], sd_g[Intercept], zi."""
    if match := re.match(r"^b_(.+)$", brms_name):
        return f"b[{match.group(1)}]"
    if match := re.match(r"^sd_(.+?)__(.+)$", brms_name):
        return f"sd_{match.group(1)}[{match.group(2)}]"
    return brms_name


def reference_priors(reference: dict) -> list[stanmer.Prior]:
    """The priors brms was fitted with (rows of class, coef, group, prior, and dpar when set)."""
    return [
        stanmer.prior(
            row["prior"], row["class"], coef=row["coef"] or None, group=row["group"] or None,
            dpar=row.get("dpar") or None,
        )
        for row in reference["priors"]
    ]


def gaps_beyond_tolerance(summary: pd.DataFrame, posterior: dict) -> list[str]:
    """One line per brms parameter whose stanmer mean or sd is outside tolerance."""
    far = []
    for brms_name, theirs in posterior.items():
        ours = summary.loc[stanmer_name(brms_name)]
        z = (ours["mean"] - theirs["mean"]) / theirs["sd"]
        ratio = ours["sd"] / theirs["sd"]
        if abs(z) > MEAN_TOLERANCE or abs(ratio - 1) > SD_TOLERANCE:
            far.append(
                f"{brms_name}: mean {ours['mean']:.4g} vs brms {theirs['mean']:.4g} ({z:+.2f} sd), sd ratio {ratio:.3f}"
            )
    return far
