"""Group effects integrated out of a Gaussian model: when the program does
it, and the numbers it then reads.

With the identity link, unweighted rows and intercept-only group terms,
Y ~ N(Intercept + X b, sigma^2 I + sum_t sd_t^2 Z_t Z_t') exactly, so NUTS
need not sample the effects at all: it moves only b, Intercept_c, sd_t and
sigma (same priors, no Jacobian), and the effects are drawn from their exact
conditional in generated quantities. On the reference model (88 rows, crossed
comp and athlete intercepts) that takes 7-8 leapfrog steps per draw instead
of 20-25 and lifts the min bulk ESS from 484-625 to 1,393-2,224 at the same
CPU (bench/findings.md, "Variance split" C5 and "Ported: marginal").

The log density (M = Z'Z / sigma^2 + D^-1 the effects' conditional
precision, D = diag(sd_t^2 per level), u = Z'e / sigma^2, e = Y - Intercept - X b):
    -N log sigma - sum_t J_t log sd_t - log|M| / 2 - (e'e / sigma^2 - u' M^-1 u) / 2
(determinant lemma and Woodbury; only the constant -N/2 log(2 pi) is dropped,
as normal_id_glm_lupdf drops it). Each row has one level of each term, so
M's block of the term with the most levels ("L", eliminated) is diagonal:
it is eliminated in closed form, and the other terms' R levels ("O") keep one
R x R Cholesky of the Schur complement per gradient. L's diagonal entry
depends only on a level's row count, so its levels are grouped by count and
the Schur complement is a sum over the distinct counts of a scalar times a
data matrix. Every sum over rows is computed here, once, in numpy; the
program reads only sizes and these statistics.

When it pays: a gradient costs ~R^3 / 3 (the Cholesky) + (distinct counts)
R^2 + R J_L, independent of N, against the per-row or sufficient-statistics
program's ~0.1 ms here. Measured on simulated crossed intercepts (2,000 rows,
500 eliminated levels, R levels in the other term; stanli, 2 loaded cores;
bench/levers/marginal_threshold.py, findings.md "Ported: marginal"): one
gradient 0.2 / 0.7 / 1.2 / 8 / 22 ms at R = 50 / 100 / 150 / 200 / 300, and
at default settings min bulk ESS per CPU second marginal vs the other program
558 vs 29 (R = 25), 250 vs 31 (50), 114 vs 33 (100), 46 vs 65 (150): ~5 leapfrog
steps per draw instead of 28-63 and 3,000+ ESS instead of 400-930 pay for a
gradient up to ~10x dearer, not ~16x. So R <= MAX_DENSE_LEVELS = 100; larger
models keep the other programs (InstEval: R = 1,156, sufficient statistics).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .formula import Design
from .spec import ModelSpec
from .sufficient_statistics import applies as gaussian_sums_apply

# R, the levels of every term but the eliminated one, at most this (measured above).
MAX_DENSE_LEVELS = 100


def applies(spec: ModelSpec) -> bool:
    """The effects can be integrated out in closed form: a Gaussian identity
    likelihood without weights, cens() or se(), an intercept, and only
    intercept-only group terms (the conditions of the sufficient statistics)."""
    return gaussian_sums_apply(spec)


def eliminated_term(design: Design) -> int:
    """The 0-based term whose levels are eliminated in closed form: the one with the most."""
    return int(np.argmax([len(term.levels) for term in design.spec.group_terms]))


def dense_levels(design: Design) -> int:
    """R: the levels of every term but the eliminated one (the Cholesky's size)."""
    sizes = [len(term.levels) for term in design.spec.group_terms]
    return sum(sizes) - max(sizes)


def uses_marginal(design: Design) -> bool:
    return applies(design.spec) and dense_levels(design) <= MAX_DENSE_LEVELS


def statistics(design: Design) -> dict[str, Any]:
    """The data the marginal program declares beyond J_t and the priors
    (names as in codegen.marginal)."""
    spec = design.spec
    y = np.asarray(design.y, dtype=float)
    if design.offset is not None:
        y = y - design.offset  # an offset moves the response: the residual is unchanged
    N = len(y)
    X = np.asarray(design.X, dtype=float).reshape(N, -1)
    Xc = X - X.mean(axis=0)
    mean_y = float(y.mean())
    Yc = y - mean_y  # centred first, so the expanded sums cancel less
    data: dict[str, Any] = {"mean_Y": mean_y, "YcYc": float(Yc @ Yc), "XcYc": Xc.T @ Yc, "XcXc": Xc.T @ Xc}

    large = eliminated_term(design)
    others = [t for t in range(len(spec.group_terms)) if t != large]
    sizes = [len(term.levels) for term in spec.group_terms]
    level_L, J_L = design.groups[large].index - 1, sizes[large]
    sXc_L = np.zeros((J_L, Xc.shape[1]))
    np.add.at(sXc_L, level_L, Xc)
    n_L = np.bincount(level_L, minlength=J_L).astype(float)
    counts, count_index = np.unique(n_L.astype(int), return_inverse=True)
    data |= {"term_L": large + 1, "J_L": J_L, "n_L": n_L, "sYc_L": np.bincount(level_L, weights=Yc, minlength=J_L),
             "sXc_L": sXc_L, "D": len(counts), "m_L": counts.astype(float),
             "k_L": np.bincount(count_index).astype(float), "count_index_L": count_index + 1}

    # the other terms' levels, stacked in term order: r_all = (r_O, r_L)
    offsets = np.cumsum([0] + [sizes[t] for t in others])
    R = int(offsets[-1])
    if others:
        level_O = np.stack([offsets[i] + design.groups[t].index - 1 for i, t in enumerate(others)], axis=1)
        stacked = level_O.ravel()  # row by row: each row's O levels in turn
        sXc_O = np.zeros((R, Xc.shape[1]))
        np.add.at(sXc_O, stacked, np.repeat(Xc, len(others), axis=0))
        ZtZ_O = np.zeros((R, R))
        N_OL = np.zeros((R, J_L))
        for column in level_O.T:
            np.add.at(N_OL, (column, level_L), 1.0)
            for other in level_O.T:
                np.add.at(ZtZ_O, (column, other), 1.0)
        # column d: the R x R sum over L levels with count d of N_OL[, k] N_OL[, k]', column-major as to_matrix reads it
        G_L = np.stack([(N_OL[:, count_index == d] @ N_OL[:, count_index == d].T).ravel(order="F")
                        for d in range(len(counts))], axis=1)
        data |= {"R": R, "term_O": np.repeat([t + 1 for t in others], [sizes[t] for t in others]),
                 "n_O": np.bincount(stacked, minlength=R).astype(float),
                 "sYc_O": np.bincount(stacked, weights=np.repeat(Yc, len(others)), minlength=R),
                 "sXc_O": sXc_O, "ZtZ_O": ZtZ_O, "N_OL": N_OL, "G_L": G_L}
    start = {t: int(offsets[i]) + 1 for i, t in enumerate(others)} | {large: R + 1}
    data["effect_start"] = np.array([start[t] for t in range(len(sizes))], dtype=int)
    return data
