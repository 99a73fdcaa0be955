"""Centred or non-centred, per group term, chosen from the data before sampling.

A non-centred term samples standardised effects z and computes r = sd * z:
good when a level's data say little about its effect, so the posterior of r
is shaped by sd (the funnel). A centred term samples r itself with
r ~ normal(0, sd): good when each level's data pin its effect, where the
non-centred form makes z and sd trade off instead. Measured in
bench/findings.md (b): centring a sparse term costs up to 99 % of the
effective sample size per second, centring a data-rich term gains a little,
so the rule is conservative. It centres term t only if

    information_t = median rows per level * sd_t^2 / sigma^2 >= 10
    and the term has at least 20 levels,
    or information_t >= 2.5 and the term has at least 200 levels

(with few levels sd_t stays uncertain enough to visit the funnel's neck:
the reference model's 11 competitions diverged when centred; with hundreds
the levels pin sd_t, and far less information per level suffices: over 300
simulated levels centred and non-centred tie at 1 row's worth and centred
wins 2.7x at 3 and 4.3x at 5; InstEval's 1,128 teachers, 5.9 rows' worth
each, sample their sd 2.4x better centred; bench/findings.md "Coordinates
without ridges"). For a slope,
a level's "rows" are the sum of its squared column values; a correlated term
is decided whole, by its first column (the intercept when it has one).

sd_t and sigma come from moments of the least-squares residuals: no
sampling, O(N) per term (likelihood weights are not used by the estimate). The estimate exists for Gaussian identity-link
models; other families keep the non-centred form unless `centered=` says
otherwise (their information would need a GLM's working weights), and so
do the terms of an auxiliary parameter's formula (bf(..., sigma = ~ ...)).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence, Union

import numpy as np

from .errors import OptionError
from .formula import Design
from .spec import GroupTerm

# a level with this much information relative to the group sd is pinned by its data
MIN_INFORMATION = 10.0
# fewer levels leave the group sd near zero often enough to reach the funnel's neck
MIN_LEVELS = 20
# so many levels pin the group sd, and this much information per level suffices
MANY_LEVELS = 200
MIN_INFORMATION_MANY_LEVELS = 2.5

# None: the rule; a bool: every term; {factor or term label: bool}: those
# terms; a sequence of bools: each term in order (what a saved fit records)
Centered = Union[None, bool, Mapping[str, bool], Sequence[bool]]


class CenteringError(OptionError):
    """`centered=` names no group term, or gives a value other than True/False."""


def centered_of(terms: Sequence[GroupTerm]) -> list[bool] | None:
    """The `centered=` value that gives these terms their forms again (what a
    saved fit records, what a warm start keeps); None where the program
    sampled no effects to parametrise (stanmer.marginal)."""
    if any(term.centred is None for term in terms):
        return None
    return [term.centred for term in terms]


def parametrise(design: Design, centered: Centered = None, prior_only: bool = False, sampling: bool = True) -> Design:
    """`design` with every group term's parametrisation decided: by `centered`
    (True/False for every term, or {factor or term label: bool}) where it
    says, by the rule otherwise. The rule is for NUTS (`sampling`): an
    optimiser or approximation keeps the non-centred form, whose mode does
    not run into the centred density's spike at sd = 0."""
    overrides = _overrides(design, centered)
    information = information_per_level(design) if None in overrides else None
    terms = []
    for t, term in enumerate(design.spec.group_terms):
        if overrides[t] is not None:
            centred, reason = overrides[t], "set by centered="
        else:
            centred, reason = _rule(design, term, information[t], prior_only, sampling)
        terms.append(dataclasses.replace(term, centred=centred, centring_reason=reason))
    spec = dataclasses.replace(design.spec, group_terms=tuple(terms))
    return dataclasses.replace(design, spec=spec)


def _rule(design: Design, term: GroupTerm, information: float, prior_only: bool, sampling: bool) -> tuple[bool, str]:
    if prior_only:
        return False, "the prior only is sampled: no data inform the levels"
    if not sampling:
        return False, "the data-driven choice is for sampling (NUTS); other methods keep this form"
    if any(part is not None for part in term.coefficient_parts):
        return False, "in an auxiliary parameter's formula: the estimate is of effects on the mean only"
    if not np.isfinite(information):
        return False, f"no estimate of its information ({_no_estimate(design.spec)})"
    rows = f"{information:.1f} rows' worth of information per level"
    J = len(term.levels)
    if J >= MANY_LEVELS:
        if information < MIN_INFORMATION_MANY_LEVELS:
            return False, f"{rows} (< {MIN_INFORMATION_MANY_LEVELS:g} over {J} levels)"
        return True, f"{rows} (>= {MIN_INFORMATION_MANY_LEVELS:g} over {J} levels, which pin the sd)"
    if information < MIN_INFORMATION:
        return False, f"{rows} (< {MIN_INFORMATION:g})"
    if J < MIN_LEVELS:
        return False, f"{rows}, but only {J} levels (< {MIN_LEVELS})"
    return True, f"{rows} (>= {MIN_INFORMATION:g}) over {J} levels"


def _no_estimate(spec) -> str:
    if spec.censored:
        return "censored rows"
    if spec.known_se:
        return "known standard errors"
    return f"family {spec.family}; estimated for Gaussian identity-link models only"


def _overrides(design: Design, centered: Centered) -> list[bool | None]:
    """Per term: the user's choice, or None to apply the rule."""
    terms = design.spec.group_terms
    if centered is None or isinstance(centered, bool):
        return [centered] * len(terms)
    if isinstance(centered, (list, tuple)) and len(centered) == len(terms) and all(isinstance(c, bool) for c in centered):
        return list(centered)
    if not isinstance(centered, Mapping):
        raise CenteringError(
            f"centered must be None (choose from the data), True, False or a dict "
            f"{{factor or term label: True/False}}, got {centered!r}"
        )
    choices = list(dict.fromkeys([t.factor for t in terms] + [t.label for t in terms]))
    for key, value in centered.items():
        if key not in choices:
            raise CenteringError(
                f"centered names {key!r}, which is no group term of this model; "
                f"choose among: {', '.join(repr(c) for c in choices) or 'none (the model has no group terms)'}"
            )
        if not isinstance(value, (bool, np.bool_)):
            raise CenteringError(f"centered[{key!r}] must be True or False, got {value!r}")
    # a term label is more specific than its factor, so it wins
    return [
        bool(centered[t.label]) if t.label in centered else (bool(centered[t.factor]) if t.factor in centered else None)
        for t in terms
    ]


def information_per_level(design: Design) -> np.ndarray:
    """Per term: how much the median level's data say about its effect,
    relative to the spread the group sd allows (rows' worth: median level
    weight x sd_t^2 / sigma^2). NaN where no estimate exists (not Gaussian
    with the identity link, censored, known se); 0 where the split between
    the term's sd and sigma is not identified (about one row per level)."""
    spec = design.spec
    T = len(spec.group_terms)
    if (
        spec.family.name != "gaussian"
        or spec.family.link != "identity"
        or spec.censored
        or spec.known_se
    ):
        return np.full(T, np.nan)
    sds, sigma, weights = moment_estimates(design)
    return np.array([np.median(w[w > 0]) * sd**2 / sigma**2 if np.any(w > 0) else 0.0 for sd, w in zip(sds, weights)])


def moment_estimates(design: Design) -> tuple[np.ndarray, float, list[np.ndarray]]:
    """Group sds of each term's first column, the residual sd, and each
    level's weight (sum of the squared column; rows for an intercept), from
    the residuals of least squares on the population-level columns. Per term
    and level, the residuals' regression on the column estimates the effect;
    the spread of those estimates beyond their within-level noise is the
    group variance. Each term is estimated on its own (crossed terms then
    count each other's variance as noise, which errs towards non-centred)."""
    y = np.asarray(design.y, dtype=float)
    if design.offset is not None:
        y = y - design.offset
    N = len(y)
    X = np.column_stack([np.ones(N), design.X]) if design.spec.has_intercept else design.X
    residual = y - X @ np.linalg.lstsq(X, y, rcond=None)[0] if X.shape[1] else y
    sds, weights, spread = [], [], []
    for term, group in zip(design.spec.group_terms, design.groups):
        g = group.index - 1
        J = len(term.levels)
        z = group.Z[:, 0]
        weight = np.bincount(g, weights=z * z, minlength=J)
        seen = weight > 1e-12
        effect = np.zeros(J)
        effect[seen] = np.bincount(g, weights=z * residual, minlength=J)[seen] / weight[seen]
        # levels with one row each fit their residual exactly: within-level noise
        # needs many levels with two rows or more, else the split is not identified
        df = int(np.sum(np.bincount(g, minlength=J)[seen] - 1))
        weights.append(weight)
        spread.append(np.mean(z * z))
        if df < max(10, 0.1 * N) or seen.sum() < 2:
            sds.append(0.0)
            continue
        within = np.sum((residual - effect[g] * z) ** 2) / df
        between = np.var(effect[seen], ddof=1) - within * np.mean(1 / weight[seen])
        sds.append(np.sqrt(max(between, 0.0)))
    sds = np.array(sds)
    total = np.var(residual)
    sigma2 = max(total - float(np.sum(sds**2 * np.array(spread))), 0.05 * total, 1e-300)
    return sds, float(np.sqrt(sigma2)), weights
