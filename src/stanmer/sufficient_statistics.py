"""Sufficient statistics of a Gaussian likelihood: when the program uses
them, and the numbers it then reads.

With the identity link and unweighted rows, the log likelihood depends on
the data only through the residual sum of squares, and for intercept-only
group terms that sum expands into per-level counts and sums and into the
row counts of each pair of levels that share rows. A gradient then costs
work in the number of levels and level pairs instead of one autodiff node
per row and term (3x faster per gradient on InstEval, bench/findings.md (a)).
The expansion is exact: only the constant -N/2 log(2 pi) differs, which
normal_id_glm_lupdf drops too.

The statistics are computed here, once, in numpy (computing them in the
program's transformed data loops over N in the interpreter: 3-5x slower
builds), with the response centred first so the expanded sum cancels less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .formula import Design
from .spec import ModelSpec
from .term_kinds import INTERCEPT

# Below this many rows a gradient's cost is fixed overhead, not rows (the
# reference model, 88 rows: every program shape within 0.92-1.07x), so the
# per-row program, which is easier to read, is kept.
MIN_ROWS = 1_000


@dataclass(frozen=True)
class LevelPairs:
    """Levels j of term t and k of term u that share rows, with the row counts (COO form)."""

    j: np.ndarray  # 1-based
    k: np.ndarray  # 1-based
    n: np.ndarray  # rows in each pair (float: the program multiplies by it)


def applies(spec: ModelSpec) -> bool:
    """The model's likelihood can be written through sufficient statistics."""
    return (
        spec.family.definition.likelihoods[spec.family.link].residual_sum_of_squares
        and not spec.has_weights
        and not spec.censored  # censored rows need their cdfs, row by row
        and not spec.known_se  # each row has its own sd
        and not spec.aux_parts  # so has each row with a formula for sigma
        and spec.has_intercept
        and bool(spec.group_terms)
        and all(term.kind.name == INTERCEPT.name for term in spec.group_terms)
    )


def pays(design: Design) -> bool:
    """The statistics are smaller than the per-row work they replace: the
    plain program gathers one effect per row and term (T x N autodiff nodes);
    the expansion touches each level and each level pair once."""
    spec = design.spec
    if spec.n_obs < MIN_ROWS:
        return False
    entries = sum(len(term.levels) for term in spec.group_terms)
    entries += sum(len(pairs.n) for pairs in level_pairs(design).values())
    return entries < len(spec.group_terms) * spec.n_obs


def uses_sufficient_statistics(design: Design) -> bool:
    return applies(design.spec) and pays(design)


def level_pairs(design: Design) -> dict[tuple[int, int], LevelPairs]:
    """Every pair of group terms t < u (1-based), with their shared levels."""
    terms, groups = design.spec.group_terms, design.groups
    out = {}
    for t in range(len(terms)):
        for u in range(t + 1, len(terms)):
            width = len(terms[u].levels)
            key = (groups[t].index - 1) * width + (groups[u].index - 1)
            cells, counts = np.unique(key, return_counts=True)
            out[(t + 1, u + 1)] = LevelPairs(cells // width + 1, cells % width + 1, counts.astype(float))
    return out


def statistics(design: Design) -> dict[str, Any]:
    """The data the sufficient-statistics program declares beyond the plain one's
    (names as in codegen.sufficient_statistics)."""
    y = np.asarray(design.y, dtype=float)
    if design.offset is not None:
        y = y - design.offset  # an offset moves the response: the residual is unchanged
    X = np.asarray(design.X, dtype=float).reshape(len(y), -1)
    Xc = X - X.mean(axis=0)
    mean_y = float(y.mean())
    Yc = y - mean_y
    data: dict[str, Any] = {"mean_Y": mean_y, "YcYc": float(Yc @ Yc), "XcYc": Xc.T @ Yc, "XcXc": Xc.T @ Xc}
    for t, (term, group) in enumerate(zip(design.spec.group_terms, design.groups), 1):
        level, J = group.index - 1, len(term.levels)
        data[f"n_{t}"] = np.bincount(level, minlength=J).astype(float)
        data[f"sYc_{t}"] = np.bincount(level, weights=Yc, minlength=J)
        sXc = np.zeros((J, Xc.shape[1]))
        np.add.at(sXc, level, Xc)
        data[f"sXc_{t}"] = sXc
    for (t, u), pairs in level_pairs(design).items():
        data[f"C_{t}_{u}_nnz"] = len(pairs.n)
        data[f"C_{t}_{u}_n"] = pairs.n
        data[f"C_{t}_{u}_j"] = pairs.j
        data[f"C_{t}_{u}_k"] = pairs.k
    return data
