"""Coordinates without ridges for the sufficient-statistics program: the data
it reads to sample the level the data pin instead of directions they do not see.

On large Gaussian models NUTS is slowed by two kinds of direction that
leave every row's mean unchanged, so only the priors pin them, and that run
across hundreds of coordinates where a diagonal metric cannot follow
(bench/findings.md, "InstEval: the intercept ridge"):

- the intercept ridge: Intercept_c against the mean of each term's effects,
  and b against the block means of a term within which a population column
  is constant (service within dept:service);
- the nesting ridge: when one term's levels fall into groups that share
  rows only with matching groups of another term's levels (every teacher
  in one department), adding delta to one group and taking it from the
  other leaves every row unchanged.

The program (codegen.ridges) samples each term's effects as u_t, reflected
block by block (a Householder reflection: orthogonal, |det| 1), so that
each block's first coordinate is sqrt(size) times the block's mean and the
rest are free of it; the population effects are sampled as the data see
them (b_pinned, Intercept_pinned) and b and Intercept_c follow by a shift
of the block means. A nested term's blocks are its groups, and their means
are taken from the other term's levels instead. Every step is a rotation or
a shift given the other coordinates, so the posterior is the same, exactly.

Per term t this module gives the blocks (levels listed block by block and
the block sizes), the map from block means to the shift of (intercept, b),
and for each level the block mean it absorbs. All of it is data: the
program is the same whatever the data's blocks and nestings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .formula import Design
from .parametrisation import moment_estimates
from .spec import ModelSpec
from .sufficient_statistics import level_pairs

# a column counts as constant within a level when its spread there is this small relative to its scale
CONSTANT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TermBlocks:
    """One term's blocks of levels, and what their means do."""

    order: np.ndarray  # the term's levels (1-based), block by block
    sizes: np.ndarray  # levels per block
    shift: np.ndarray  # (1 + K, blocks): block means -> (intercept, b) they move into
    absorbs: np.ndarray  # per level: 0, or 1 + the (0-based) place of the block mean it takes in, over all terms


@dataclass(frozen=True)
class Start:
    """Where NUTS may begin and the spread it may expect there, per parameter
    of the program, on the unconstrained scale (log for the sds and sigma)."""

    values: dict[str, np.ndarray]
    variances: dict[str, np.ndarray]
    logged: frozenset[str]  # parameters with lower bound 0, unconstrained by log

    def jittered(self, rng: np.random.Generator, spread: float) -> dict[str, np.ndarray]:
        """A chain's constrained start: `spread` expected sds from the centre in each coordinate."""
        out = {}
        for name, value in self.values.items():
            moved = value + spread * np.sqrt(self.variances[name]) * rng.standard_normal(np.shape(value))
            out[name] = np.exp(moved) if name in self.logged else moved
        return out


@dataclass(frozen=True)
class Nesting:
    """Term `inner`'s levels fall into groups that share rows only with groups of `outer`'s levels."""

    inner: int  # 0-based term
    outer: int
    group_of_inner: np.ndarray  # per inner level, its group (0-based)
    group_of_outer: np.ndarray  # per outer level, its group


def data(blocks: list[TermBlocks]) -> dict[str, Any]:
    """The Stan data of the reparametrisation (names as in codegen.ridges), from each term's blocks."""
    out: dict[str, Any] = {}
    for t, term in enumerate(blocks, 1):
        out[f"B_{t}"] = len(term.sizes)
        out[f"block_{t}_size"] = term.sizes
        out[f"block_{t}_levels"] = term.order
        out[f"block_{t}_shift"] = term.shift
        out[f"absorbs_{t}"] = term.absorbs + 1  # the program indexes a vector led by a zero
    return out


def term_blocks(design: Design) -> list[TermBlocks]:
    """Every group term's blocks: its nesting groups when it is the inner term
    of a nesting, else the levels sharing the values of the population
    columns constant within each level."""
    terms, groups = design.spec.group_terms, design.groups
    X = np.asarray(design.X, dtype=float).reshape(design.spec.n_obs, -1)
    nestings = {nesting.inner: nesting for nesting in nestings_of(design)}
    K = X.shape[1]
    labels, shifts = [], []
    for t, (term, group) in enumerate(zip(terms, groups)):
        J = len(term.levels)
        if t in nestings:
            label = nestings[t].group_of_inner
            shifts.append(np.zeros((1 + K, label.max() + 1)))  # the outer term takes these means in
        else:
            label, shift = _column_blocks(X, group.index - 1, J)
            shifts.append(shift)
        labels.append(label)
    offsets = np.concatenate([[0], np.cumsum([label.max() + 1 for label in labels])])
    absorbs = [np.zeros(len(term.levels), dtype=np.int64) for term in terms]
    for inner, nesting in nestings.items():
        absorbs[nesting.outer] = 1 + offsets[inner] + nesting.group_of_outer
    return [
        TermBlocks(np.argsort(label, kind="stable") + 1, np.bincount(label), shift, absorbed)
        for label, shift, absorbed in zip(labels, shifts, absorbs)
    ]


def _column_blocks(X: np.ndarray, level: np.ndarray, J: int) -> tuple[np.ndarray, np.ndarray]:
    """Each level's block (levels agreeing on every population column that is
    constant within levels) and the least-squares map from the block means to
    (intercept, b): moving every level of block k by m_k equals moving the
    intercept by s_0 and b by s_1.. when m_k = s_0 + (x_k - mean x) . s_1.."""
    N, K = X.shape
    low = np.full((J, K), np.inf)
    high = np.full((J, K), -np.inf)
    np.minimum.at(low, level, X)
    np.maximum.at(high, level, X)
    scale = 1 + (np.max(np.abs(X), axis=0) if N else np.zeros(K))
    constant = np.flatnonzero(np.all(high - low <= CONSTANT_TOLERANCE * scale, axis=0))
    values, label = np.unique(low[:, constant], axis=0, return_inverse=True)
    label = label.reshape(-1)
    design = np.column_stack([np.ones(len(values)), values - X[:, constant].mean(axis=0)])
    solve = np.linalg.pinv(design)
    shift = np.zeros((1 + K, len(values)))
    shift[np.concatenate([[0], 1 + constant])] = solve
    return label, shift


def nestings_of(design: Design) -> list[Nesting]:
    """Pairs of terms whose levels split into more than one group of shared
    rows, each term in at most one pair (most groups first). The inner term
    is the one with more levels: its groups' means move to the outer term."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    terms = design.spec.group_terms
    candidates = []
    for (t, u), pairs in level_pairs(design).items():
        J_t, J_u = len(terms[t - 1].levels), len(terms[u - 1].levels)
        links = coo_matrix((np.ones(len(pairs.n)), (pairs.j - 1, J_t + pairs.k - 1)), shape=(J_t + J_u,) * 2)
        count, label = connected_components(links, directed=False)
        if count > 1:
            inner, outer = (t - 1, u - 1) if J_t >= J_u else (u - 1, t - 1)
            first, second = label[:J_t], label[J_t:]
            label_inner, label_outer = (first, second) if inner == t - 1 else (second, first)
            # groups numbered by the inner levels' order, so each inner level has one
            _, compact = np.unique(label_inner, return_inverse=True)
            number = dict(zip(label_inner, compact))
            candidates.append(
                (count, Nesting(inner, outer, compact.reshape(-1), np.array([number[c] for c in label_outer])))
            )
    chosen, used = [], set()
    for _, nesting in sorted(candidates, key=lambda pair: -pair[0]):
        if nesting.inner not in used and nesting.outer not in used:
            chosen.append(nesting)
            used |= {nesting.inner, nesting.outer}
    return chosen


def starting_point(design: Design, blocks: list[TermBlocks]) -> Start:
    """A start near the posterior and each coordinate's expected posterior
    variance (a starting metric), from moments of the data (the group sds and
    sigma of stanmer.parametrisation's estimate, least squares for b);
    `blocks` are the design's term_blocks (the program's data holds the same).

    With a unit metric on InstEval the first 100 of 1,000 warmup iterations
    took 57 % of a chain's gradients (tree depth 10): the coordinates' scales
    span 0.003 (log sigma, 73,421 rows) to 1. The variances here need only be
    right in order of magnitude; NUTS adapts its own from them. Effects start
    at 0. Per level, an effect's variance is 1 / (rows / sigma^2 + 1 / sd^2);
    a reflected coordinate gets its block's mean, except the block mean's own
    coordinate, which the data do not see (the intercept, b or the outer term
    took it), so it keeps its prior's variance."""
    spec = design.spec
    y = np.asarray(design.y, dtype=float) - (0.0 if design.offset is None else design.offset)
    X = np.asarray(design.X, dtype=float).reshape(len(y), -1)
    Xc = X - X.mean(axis=0)
    b = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0] if X.shape[1] else np.zeros(0)
    sds, sigma, rows = moment_estimates(design)
    sigma = max(sigma, 1e-3 * float(np.std(y)) + 1e-12)
    N = len(y)
    information = Xc.T @ Xc / sigma**2
    values = {"b_pinned": b, "Intercept_pinned": np.array(y.mean()), "sigma": np.log(sigma)}
    variances = {
        "b_pinned": 1 / np.maximum(np.diag(information), 1e-12) if X.shape[1] else np.zeros(0),
        "Intercept_pinned": np.array(sigma**2 / N + sum(sd**2 / len(t.levels) for sd, t in zip(sds, spec.group_terms))),
        "sigma": np.array(1 / (2 * N)),
    }
    for t, (term, split, sd, n) in enumerate(zip(spec.group_terms, blocks, sds, rows), 1):
        sd = max(sd, 0.1 * sigma)  # no estimate (0): a modest group sd
        level = 1 / (n / sigma**2 + 1 / sd**2)
        prior = sd**2
        if not term.centred:
            level, prior = level / sd**2, 1.0
        per_block = np.bincount(np.repeat(np.arange(len(split.sizes)), split.sizes), weights=level[split.order - 1])
        u = np.repeat(per_block / split.sizes, split.sizes)
        u[np.concatenate([[0], np.cumsum(split.sizes)[:-1]])] = prior
        values[f"sd_{t}"], variances[f"sd_{t}"] = np.log(sd), np.array(1 / (2 * len(term.levels)))
        values[f"u_{t}"], variances[f"u_{t}"] = np.zeros(len(term.levels)), u
    logged = frozenset(["sigma"] + [f"sd_{t}" for t in range(1, len(spec.group_terms) + 1)])
    return Start({k: np.asarray(v, dtype=float) for k, v in values.items()}, variances, logged)


def with_effects(variables: dict[str, np.ndarray], standata: dict[str, Any], spec: ModelSpec) -> dict[str, np.ndarray]:
    """`variables` (chain, draw, ...) of a run of the program with z_t or r_t
    rebuilt from u_t exactly as its model block computes them
    (codegen.ridges.effects_statements), so the results read them as from
    any other program. Each u_t keeps only its last draw, which a warm start
    needs: the effects are stored once, as elsewhere."""
    out = dict(variables)
    terms = list(enumerate(spec.group_terms, 1))
    lead = next(iter(variables.values())).shape[:2]
    absorbable = np.concatenate([np.zeros(lead + (1,))] + [variables[f"block_mean_{t}"].reshape(lead + (-1,)) for t, _ in terms], axis=-1)
    for t, term in terms:
        u = variables[f"u_{t}"]
        sizes, levels = np.asarray(standata[f"block_{t}_size"]), np.asarray(standata[f"block_{t}_levels"]) - 1
        absorbs = np.asarray(standata[f"absorbs_{t}"]) - 1
        effects = np.empty_like(u)
        for chain in range(u.shape[0]):  # a chain at a time: temporaries stay one chain's size
            effects[chain] = _reflect_blocks(u[chain], sizes, levels)
            taken_in = absorbable[chain][:, absorbs]
            effects[chain] -= taken_in if term.centred else taken_in / variables[f"sd_{t}"][chain][:, None]
        out[f"r_{t}" if term.centred else f"z_{t}"] = effects
        out[f"u_{t}"] = u[:, -1:].copy()  # a copy: a view would keep every draw of u_t alive
    return out


def _reflect_blocks(u: np.ndarray, sizes: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """codegen.ridges' reflect_blocks for each row of `u` (draw, level)."""
    out = np.empty_like(u)
    start = 0
    for n in sizes:
        w = u[:, start : start + n]
        if n > 1:
            h = np.full(n, -(n**-0.5))
            h[0] += 1
            w = w - np.outer(w @ h / (1 - n**-0.5), h)
        out[:, levels[start : start + n]] = w
        start += n
    return out
