"""The likelihood: linear predictor, family parameters and the sampling
statement, switched off through data for prior-only runs."""

from __future__ import annotations

from ..spec import ModelSpec
from .blocks import Program, decl
from .priors import add_prior


def add_likelihood(program: Program, spec: ModelSpec) -> None:
    from .program import group_contribution  # the term parts live with the terms

    program.add("parameters", decl("real<lower=0> sigma;", "residual standard deviation"))
    add_prior(program, "sigma", "sigma", spec.priors_of("sigma"), None, "the residual sd")

    pieces = ["rep_vector(Intercept_c, N)"] if spec.has_intercept else ["rep_vector(0, N)"]
    pieces += [group_contribution(t, term) for t, term in enumerate(spec.group_terms, 1)]
    design = "Xc" if spec.has_intercept else "X"
    program.add("model", "// likelihood")
    if not spec.group_terms:
        alpha = "Intercept_c" if spec.has_intercept else "0"
        program.add(
            "model",
            "if (!prior_only) {",
            f"  target += normal_id_glm_lupdf(Y | {design}, {alpha}, b, sigma);",
            "}",
        )
        return
    program.add(
        "model",
        "if (!prior_only) {",
        decl(f"  vector[N] mu = {pieces[0]};", "linear predictor without X * b"),
        *[f"  mu += {piece};" for piece in pieces[1:]],
        f"  target += normal_id_glm_lupdf(Y | {design}, mu, b, sigma);",
        "}",
    )
