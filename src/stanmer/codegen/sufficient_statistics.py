"""The Gaussian likelihood through sufficient statistics: the data it reads
and the expanded residual sum of squares (stanmer.sufficient_statistics
says when a model uses it and computes the data).

With Yc = Y - mean(Y) and Xc the centred design, the residual of row n is
Yc[n] - c - Xc[n] * b - sum_t r_t[g_t[n]], c = Intercept_c - mean(Y).
Squared and summed, the cross terms of c with Yc and Xc vanish (both sum to
zero), each term contributes through its per-level sums, and each pair of
terms through the row counts of the level pairs that share rows.
"""

from __future__ import annotations

from ..spec import ModelSpec
from ..stan_text import decl
from .blocks import Program


def add_sufficient_statistics_likelihood(program: Program, spec: ModelSpec, group_effects: list[str]) -> None:
    """`group_effects` compute the effects r_t the expansion reads."""
    T = len(spec.group_terms)
    pairs = [(t, u) for t in range(1, T + 1) for u in range(t + 1, T + 1)]
    program.add(
        "data",
        "",
        "// sufficient statistics of the Gaussian likelihood (computed when the data are prepared),",
        "// with Yc = Y - mean_Y (offsets subtracted first) and Xc = X - its column means",
        decl("real mean_Y;", "mean response"),
        decl("real YcYc;", "Yc' * Yc"),
        decl("vector[K] XcYc;", "Xc' * Yc"),
        decl("matrix[K, K] XcXc;", "Xc' * Xc"),
    )
    for t in range(1, T + 1):
        program.add(
            "data",
            decl(f"vector[J_{t}] n_{t};", f"rows per level of group term {t}"),
            decl(f"vector[J_{t}] sYc_{t};", "sum of Yc per level"),
            decl(f"matrix[J_{t}, K] sXc_{t};", "sum of Xc rows per level"),
        )
    if pairs:
        program.add(
            "data",
            "// levels of two group terms that share rows: pair p joins level C_t_u_j[p] of term t",
            "// and level C_t_u_k[p] of term u in C_t_u_n[p] rows",
        )
    for t, u in pairs:
        program.add(
            "data",
            decl(f"int<lower=0> C_{t}_{u}_nnz;", f"level pairs of terms {t} and {u}"),
            f"vector[C_{t}_{u}_nnz] C_{t}_{u}_n;",
            f"array[C_{t}_{u}_nnz] int<lower=1, upper=J_{t}> C_{t}_{u}_j;",
            f"array[C_{t}_{u}_nnz] int<lower=1, upper=J_{u}> C_{t}_{u}_k;",
        )
    rss = ["YcYc - 2 * dot_product(b, XcYc) + N * square(c) + quad_form(XcXc, b)"]
    rss += [
        f"- 2 * dot_product(r_{t}, sYc_{t} - c * n_{t} - sXc_{t} * b) + dot_product(n_{t}, square(r_{t}))"
        for t in range(1, T + 1)
    ]
    rss += [f"+ 2 * dot_product(C_{t}_{u}_n, r_{t}[C_{t}_{u}_j] .* r_{u}[C_{t}_{u}_k])" for t, u in pairs]
    rss[-1] += ";"
    program.add(
        "model",
        "// likelihood, through sufficient statistics: work scales with levels and level pairs, not rows",
        "if (!prior_only) {",
        *[f"  {line}" for line in group_effects],
        decl("  real c = Intercept_c - mean_Y;", "the intercept on the centred response"),
        "  // residual sum of squares, expanded",
        f"  real rss = {rss[0]}",
        *[f"             {line}" for line in rss[1:]],
        "  target += -N * log(sigma) - rss / (2 * square(sigma));",
        "}",
    )
