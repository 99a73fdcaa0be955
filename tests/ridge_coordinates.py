"""The plain program's parameter values in the sufficient-statistics program's
coordinates (stanmer.ridges), written independently of the Stan code: a test
evaluates both programs at the same posterior point."""

import numpy as np

from stanmer import ridges


def reflect(w: np.ndarray) -> np.ndarray:
    """The Householder reflection swapping e_1 and the equal-entries axis (its own inverse)."""
    n = len(w)
    if n == 1:
        return w.copy()
    s = n**-0.5
    h = np.full(n, -s)
    h[0] += 1
    return w - h * (h @ w) / (1 - s)


def ridge_free_values(design, values: dict, ignore_nesting: bool = False) -> dict:
    """`values` (b, Intercept_c, sd_t, z_t or r_t, sigma) as b_pinned,
    Intercept_pinned, sd_t, u_t and sigma. `ignore_nesting`: a wrong map, for
    checking that a test can tell."""
    spec = design.spec
    blocks = ridges.term_blocks(design)
    effects = [
        values[f"r_{t}"] if term.centred else values[f"sd_{t}"] * values[f"z_{t}"]
        for t, term in enumerate(spec.group_terms, 1)
    ]
    starts = [np.concatenate([[0], np.cumsum(b.sizes)[:-1]]) for b in blocks]
    means = [np.full(len(b.sizes), np.nan) for b in blocks]  # NaN until known: taking one in early shows
    reflected = [None] * len(blocks)
    # terms that take in no other term's means first: their block means are what the others take in
    for i in sorted(range(len(blocks)), key=lambda i: bool(blocks[i].absorbs.any())):
        taken_in = np.zeros(len(effects[i]))
        if blocks[i].absorbs.any() and not ignore_nesting:
            taken_in = np.concatenate([[0.0], *means])[blocks[i].absorbs]
        reflected[i] = effects[i] + taken_in
        means[i] = np.array([reflected[i][blocks[i].order[s : s + n] - 1].mean() for s, n in zip(starts[i], blocks[i].sizes)])
    shift = sum(b.shift @ m for b, m in zip(blocks, means))
    out = {name: value for name, value in values.items() if name.startswith("sd_") or name == "sigma"}
    out["Intercept_pinned"] = values["Intercept_c"] + shift[0]
    out["b_pinned"] = values["b"] + shift[1:]
    for i, term in enumerate(spec.group_terms):
        scaled = reflected[i] / (1.0 if term.centred else values[f"sd_{i + 1}"])
        u = np.empty_like(scaled)
        for s, n in zip(starts[i], blocks[i].sizes):
            u[s : s + n] = reflect(scaled[blocks[i].order[s : s + n] - 1])
        out[f"u_{i + 1}"] = u
    return out


def random_values(spec, rng) -> dict:
    """A point of the plain program's parameters."""
    values = {"b": rng.normal(size=len(spec.population)), "Intercept_c": rng.normal(), "sigma": rng.uniform(0.5, 2)}
    for t, term in enumerate(spec.group_terms, 1):
        values[f"sd_{t}"] = rng.uniform(0.3, 2)
        values[f"r_{t}" if term.centred else f"z_{t}"] = rng.normal(size=len(term.levels))
    return values
