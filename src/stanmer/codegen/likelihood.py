"""The likelihood: the response's declaration, family parameters, the
linear predictor and the sampling statement (switched off through data for
prior-only runs).

Where Stan has a GLM function for the family and link (normal_id_glm,
bernoulli_logit_glm, poisson_log_glm, ...) and rows are unweighted, the
program uses it; otherwise it builds the linear predictor and calls the
distribution, vectorised, or row by row with weights.

Censored responses (cens()) split the rows by kind, the row numbers of each
kind travelling as data: exact rows add their density, left-censored ones
P(Y <= y) (_lcdf), right-censored ones P(Y > y) (_lccdf) and interval-
censored ones P(y < Y <= upper) (log_diff_exp of two _lcdf). Known standard
errors (se()) replace sigma by the data `se`, or by sqrt(sigma^2 + se^2).
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..families import Family
from ..families.base import Likelihood
from ..spec import ModelSpec
from ..stan_text import decl
from .blocks import Program
from .priors import add_prior
from .marginal import add_marginal_likelihood
from .sufficient_statistics import add_sufficient_statistics_likelihood


def add_response(program: Program, spec: ModelSpec) -> None:
    fam = spec.family
    if fam.definition.ordinal:
        levels = ", ".join(spec.response_levels)
        program.add("data", decl("int<lower=3> n_categories;", f"number of response categories ({levels})"))
    program.add("data", decl(fam.definition.response_declaration, f"response: {spec.response}"))
    if fam.needs_trials:
        program.add("data", decl("array[N] int<lower=1> trials;", "number of trials of each observation"))
    if spec.has_offset:
        program.add("data", decl("vector[N] offsets;", "offset() terms: added to the linear predictor as they are"))
    if spec.has_weights:
        program.add("data", decl("vector<lower=0>[N] weights;", "likelihood weights"))
    if spec.known_se:
        program.add("data", decl("vector<lower=0>[N] se;", "known standard errors of the response"))
    if spec.censored:
        program.add("data", "", "// censoring: the rows of each kind (cens() in the formula)")
        for kind, meaning in CENSORING_KINDS.items():
            program.add(
                "data",
                decl(f"int<lower=0> N_{kind};", f"number of {meaning} rows"),
                decl(f"array[N_{kind}] int<lower=1, upper=N> rows_{kind};", "their positions"),
            )
        program.add("data", decl("vector[N] Y_upper;", "upper bounds of interval-censored rows (else Y)"))


# censoring kind in the program -> what its rows are
CENSORING_KINDS = {
    "exact": "uncensored",
    "left": "left-censored (at most Y)",
    "right": "right-censored (at least Y)",
    "interval": "interval-censored (above Y, at most Y_upper)",
}


def add_likelihood(
    program: Program,
    spec: ModelSpec,
    group_effects: list[str],
    group_pieces: list[str],
    sufficient_statistics: bool = False,
    aux_values: list[str] = (),
    marginal: bool = False,
) -> None:
    """Family parameters with their priors, then the sampling statement.

    `group_effects` compute the group terms' effects (locals of the
    likelihood: they are not stored); `group_pieces` are the location's
    terms' additions to the linear predictor; `sufficient_statistics` writes
    a Gaussian likelihood through them instead, `marginal` with the effects
    integrated out; `aux_values` compute the auxiliary parameters that have a
    formula, one value per row (locals too).
    """
    for aux in spec.family.aux_definitions:
        program.add("parameters", decl(aux.declaration, aux.comment))
        add_prior(program, aux.name, aux.name, spec.priors_of(aux.name), None, aux.prior_comment)
    if marginal:
        add_marginal_likelihood(program, spec)
        return
    if sufficient_statistics:
        add_sufficient_statistics_likelihood(program, spec, group_effects)
        return

    likelihood = _with_known_se(likelihood_of(spec.family)) if spec.known_se else likelihood_of(spec.family)
    likelihood = _with_rows_aux(likelihood, [part.name for part in spec.aux_parts])
    design = "Xc" if spec.has_intercept else "X"
    # an ordinal family's thresholds are the likelihood's own argument, not part of eta
    added_intercept = spec.has_intercept and not spec.family.definition.ordinal
    pieces = (["Intercept_c"] if added_intercept else []) + (["offsets"] if spec.has_offset else [])
    pieces += group_pieces
    program.add("functions", *likelihood.functions)
    program.add("model", "// likelihood", "if (!prior_only) {", *[f"  {line}" for line in group_effects + list(aux_values)])
    if spec.known_se:
        total = "sqrt(square(sigma) + square(se))" if "sigma" in spec.family.aux else "se"
        program.add("model", decl(f"  vector[N] sd_y = {total};", "residual sd of each row"))
    if spec.censored:
        _add_eta(program, pieces + ([f"{design} * b"] if spec.population else []))
        _add_censored(program, spec, likelihood)
    elif likelihood.glm and not spec.has_weights and likelihood.vectorised:
        alpha = _alpha(pieces, program)
        glm = likelihood.glm.format(X=design, alpha=alpha, trials="trials")
        name, _, arguments = glm.partition("(")
        program.add("model", f"  target += {name}_{_suffix(spec.family)}(Y | {arguments};")
    else:
        eta = pieces + ([f"{design} * b"] if spec.population else [])
        _add_eta(program, eta)
        if spec.has_weights or not likelihood.vectorised:
            # weighted rows need each row's full density; defined functions take one row
            call = _call(likelihood, spec.family, "Y[n]", "eta[n]", "trials[n]", vectorised=not spec.has_weights)
            weight = "weights[n] * " if spec.has_weights else ""
            program.add("model", "  for (n in 1:N) {", f"    target += {weight}{call};", "  }")
        else:
            program.add("model", f"  target += {_call(likelihood, spec.family, 'Y', 'eta', 'trials')};")
    program.add("model", "}")


def likelihood_of(fam: Family) -> Likelihood:
    return fam.definition.likelihoods[fam.link]


def _with_known_se(likelihood: Likelihood) -> Likelihood:
    """The likelihood with sigma replaced by each row's sd_y (indexed as eta is)."""
    arguments = re.sub(r"\bsigma\b", "sd_y{index}", likelihood.arguments)
    glm = re.sub(r"\bsigma\b", "sd_y", likelihood.glm) if likelihood.glm else None
    return Likelihood(likelihood.distribution, arguments, glm)


def _with_rows_aux(likelihood: Likelihood, names: list[str]) -> Likelihood:
    """The likelihood with the auxiliary parameters `names` read per row
    (indexed as eta is); the GLM form stays only where its function takes them as vectors."""
    if not names:
        return likelihood
    # products and quotients elementwise: the parameters may now be vectors (Stan takes .* and ./ of reals too)
    arguments = re.sub(r"(?<!\.)([*/])", r".\1", likelihood.arguments)
    for name in names:
        arguments = re.sub(rf"\b{name}\b", f"{name}{{index}}", arguments)
    glm = likelihood.glm if set(names) <= set(likelihood.glm_vector_aux) else None
    return replace(likelihood, arguments=arguments, glm=glm)


def _add_censored(program: Program, spec: ModelSpec, likelihood: Likelihood) -> None:
    """One statement per censoring kind over that kind's rows; row by row
    where rows are weighted (each weight scales its own row's term) and for
    interval rows (log_diff_exp works on one row)."""
    weighted = spec.has_weights

    def call(kind: str, y: str, index: str) -> str:
        arguments = likelihood.arguments.format(eta=f"eta{index}", trials="", index=index)
        return f"{likelihood.distribution}_{kind}({y}{index} | {arguments})"

    for kind, function in (("exact", "lpdf" if weighted else "lupdf"), ("left", "lcdf"), ("right", "lccdf")):
        if weighted:
            program.add(
                "model",
                f"  for (n in rows_{kind}) {{",
                f"    target += weights[n] * {call(function, 'Y', '[n]')};",
                "  }",
            )
        else:
            program.add("model", f"  target += {call(function, 'Y', f'[rows_{kind}]')};")
    weight = "weights[n] * " if weighted else ""
    program.add(
        "model",
        "  for (n in rows_interval) {",
        f"    target += {weight}log_diff_exp({call('lcdf', 'Y_upper', '[n]')}, {call('lcdf', 'Y', '[n]')});",
        "  }",
    )


def _suffix(fam: Family, vectorised: bool = True) -> str:
    kind = "pmf" if fam.discrete else "pdf"
    # `lupdf` drops constants, which is all sampling needs; weighted rows
    # need the full density so each row's weight scales a complete term
    return f"lup{kind[1:]}" if vectorised else f"l{kind}"


def _call(likelihood: Likelihood, fam: Family, y: str, eta: str, trials: str, vectorised: bool = True) -> str:
    arguments = likelihood.arguments.format(eta=eta, trials=trials, index=eta.removeprefix("eta"))
    return f"{likelihood.distribution}_{_suffix(fam, vectorised)}({y} | {arguments})"


def _alpha(pieces: list[str], program: Program) -> str:
    """The GLM's intercept argument: a scalar, or a vector of per-row shifts."""
    if not pieces:
        return "0"
    if len(pieces) == 1 and pieces[0] == "Intercept_c":
        return "Intercept_c"
    _add_eta(program, pieces, comment="linear predictor without X * b")
    return "eta"


def _add_eta(program: Program, pieces: list[str], comment: str = "linear predictor") -> None:
    """eta in one expression: one pass over the rows (1.16-1.23x per gradient on
    InstEval against adding each piece to eta in turn, bench/findings.md (a))."""
    vectors = [p for p in pieces if p != "Intercept_c"]
    scalar = "Intercept_c" if "Intercept_c" in pieces else "0"
    expression = " + ".join(pieces) if vectors else f"rep_vector({scalar}, N)"
    program.add("model", decl(f"  vector[N] eta = {expression};", comment))
