"""The Gaussian program with the group effects integrated out: its data,
parameters, likelihood and the exact draws of the effects
(stanmer.marginal says when a model uses it and computes the data).

The program depends on the number of terms T only: which term is eliminated
in closed form and how the levels stack travel as data (term_L, term_O,
effect_start), so the same structure reuses one program whatever its sizes.
"""

from __future__ import annotations

from ..spec import ModelSpec
from ..stan_text import decl
from .blocks import Program
from .priors import add_prior

HEADER = [
    "shape:   group effects integrated out (exact for this Gaussian model), so there are no z_t:",
    "         NUTS samples b, Intercept_c, sd_t, sigma only, and r_t are drawn from their exact",
    "         conditional given those in generated quantities (stanmer/marginal.py explains)",
]


def add_marginal_group_terms(program: Program, spec: ModelSpec) -> None:
    """Each term's size, sd and sd prior: no level indices, no standardised effects."""
    for t, term in enumerate(spec.group_terms, 1):
        sd_prior = term.kind.prior_targets(spec, t, term)[0]
        program.add(
            "data",
            "",
            f"// group term {t}: {term.label} -> Intercept by {term.factor}",
            decl(f"int<lower=1> J_{t};", f"number of levels of {term.factor}"),
        )
        program.add("parameters", f"// group term {t}: {term.label}", decl(f"real<lower=0> sd_{t};", "standard deviation"))
        add_prior(program, sd_prior.target, sd_prior.parameter, list(sd_prior.priors), None, sd_prior.comment)


def add_marginal_likelihood(program: Program, spec: ModelSpec) -> None:
    T = len(spec.group_terms)
    _add_data(program, T)
    common = _conditional_lines(T)
    log_sds = " - ".join(f"J_{t} * log(sd_{t})" for t in range(1, T + 1))
    dense = T > 1  # one term alone is eliminated entirely: no Cholesky
    program.add(
        "model",
        "// likelihood of Y with the effects integrated out: Y ~ N(Intercept + X b, sigma^2 I + sum_t sd_t^2 Z_t Z_t'),",
        "// written through the effects' conditional precision M = Z'Z / sigma^2 + diag(1 / sd^2):",
        "// -N log sigma - sum_t J_t log sd_t - log|M| / 2 - (e'e / sigma^2 - u' M^-1 u) / 2, u = Z'e / sigma^2",
        "if (!prior_only) {",
        *[f"  {line}" for line in common],
        decl("  real ee = YcYc - 2 * dot_product(b, XcYc) + N * square(c) + quad_form(XcXc, b);", "e'e"),
        f"  target += -N * log(sigma) - {log_sds}",
        "            - 0.5 * dot_product(k_L, log(prec_m))" + (" - sum(log(diagonal(L_S)))" if dense else "")
        + "  // log|M| = log|M_LL| + log|S|",
        "            - 0.5 * (ee / s2 - dot_self(u_L ./ sqrt(prec_L))" + (" - dot_self(v));" if dense else ");"),
        "}",
    )
    program.add(
        "generated quantities",
        "// the effects, drawn exactly: given the parameters they are normal with precision M;",
        "// prior-only runs draw them from their prior N(0, sd_t)",
        *[decl(f"vector[J_{t}] r_{t};", f"Intercept by {term.factor}") for t, term in enumerate(spec.group_terms, 1)],
        "if (prior_only) {",
        *[f"  r_{t} = to_vector(normal_rng(rep_vector(0, J_{t}), sd_{t}));" for t in range(1, T + 1)],
        "} else {",
        *[f"  {line}" for line in common],
    )
    if dense:
        program.add(
            "generated quantities",
            "  // r_O ~ N(S^-1 h, S^-1) with S = L_S L_S' and v = L_S^-1 h: r_O = L_S'^-1 (v + w), w ~ N(0, I)",
            "  vector[R] r_O = mdivide_right_tri_low((v + to_vector(normal_rng(rep_vector(0, R), 1)))', L_S)';",
            "  // then r_L given r_O: independent per level, precision prec_L",
            "  vector[J_L] mean_L = (u_L - N_OL' * r_O / s2) ./ prec_L;",
            "  vector[R + J_L] r_all = append_row(r_O, to_vector(normal_rng(mean_L, inv_sqrt(prec_L))));",
        )
    else:
        program.add(
            "generated quantities",
            "  vector[J_L] r_all = to_vector(normal_rng(u_L ./ prec_L, inv_sqrt(prec_L)));",
        )
    program.add(
        "generated quantities",
        *[f"  r_{t} = segment(r_all, effect_start[{t}], J_{t});" for t in range(1, T + 1)],
        "}",
    )


def _add_data(program: Program, T: int) -> None:
    program.add(
        "data",
        "",
        "// statistics of the data (computed when the data are prepared), with Yc = Y - mean_Y",
        "// (offsets subtracted first) and Xc = X - its column means",
        decl("real mean_Y;", "mean response"),
        decl("real YcYc;", "Yc' * Yc"),
        decl("vector[K] XcYc;", "Xc' * Yc"),
        decl("matrix[K, K] XcXc;", "Xc' * Xc"),
        "// L: the term with the most levels, eliminated in closed form (its block of M is diagonal)",
        decl(f"int<lower=1, upper={T}> term_L;", "which term"),
        decl("int<lower=1> J_L;", "its levels"),
        decl("vector[J_L] n_L;", "rows per level"),
        decl("vector[J_L] sYc_L;", "sum of Yc per level"),
        decl("matrix[J_L, K] sXc_L;", "sum of Xc rows per level"),
        "// L's levels grouped by row count: M_LL's entry n / sigma^2 + 1 / sd_L^2 depends only on it",
        decl("int<lower=1> D;", "distinct row counts"),
        decl("vector[D] m_L;", "the counts"),
        decl("vector[D] k_L;", "levels with each count"),
        decl("array[J_L] int<lower=1, upper=D> count_index_L;", "each level's count"),
    )
    if T > 1:
        program.add(
            "data",
            "// O: the other terms' R levels, stacked in term order (the R x R Cholesky)",
            decl("int<lower=1> R;", "their number"),
            decl(f"array[R] int<lower=1, upper={T}> term_O;", "term of each"),
            decl("vector[R] n_O;", "rows per level"),
            decl("vector[R] sYc_O;", "sum of Yc per level"),
            decl("matrix[R, K] sXc_O;", "sum of Xc rows per level"),
            decl("matrix[R, R] ZtZ_O;", "rows shared by each pair of O levels (Z_O' Z_O)"),
            decl("matrix[R, J_L] N_OL;", "rows shared by each O level and L level"),
            "// per count d, the sum over L levels with it of N_OL[, k] N_OL[, k]' (R x R), as column d",
            decl("matrix[R * R, D] G_L;", "(one product per gradient instead of D matrix updates)"),
        )
    program.add("data", decl(f"array[{T}] int<lower=1> effect_start;", "where term t's effects start in (r_O, r_L)"))


def _conditional_lines(T: int) -> list[str]:
    """Locals shared by the likelihood and the draws of the effects."""
    sds = "[" + ", ".join(f"sd_{t}" for t in range(1, T + 1)) + "]'"
    lines = [
        decl(f"vector[{T}] sds = {sds};", "the terms' sds"),
        "real s2 = square(sigma);",
        decl("real c = Intercept_c - mean_Y;", "the intercept on the centred response"),
        decl("vector[D] prec_m = m_L / s2 + inv_square(sds[term_L]);", "precision of an L effect with m rows"),
        "vector[J_L] prec_L = prec_m[count_index_L];",
        decl("vector[J_L] u_L = (sYc_L - n_L * c - sXc_L * b) / s2;", "Z_L'e / sigma^2"),
    ]
    if T > 1:
        lines += [
            decl("vector[R] u_O = (sYc_O - n_O * c - sXc_O * b) / s2;", "Z_O'e / sigma^2"),
            "// S = M_OO - M_OL M_LL^-1 M_LO, the Schur complement of L's diagonal block",
            "matrix[R, R] S = add_diag(ZtZ_O / s2 - to_matrix(G_L * inv(prec_m * square(s2)), R, R),",
            "                          inv_square(sds[term_O]));",
            "matrix[R, R] L_S = cholesky_decompose(S);",
            decl("vector[R] v = mdivide_left_tri_low(L_S, u_O - N_OL * (u_L ./ prec_L) / s2);", "u' M^-1 u = u_L' M_LL^-1 u_L + v'v"),
        ]
    return lines
