"""The likelihood: the response's declaration, family parameters, the
linear predictor and the sampling statement (switched off through data for
prior-only runs).

Where Stan has a GLM function for the family and link (normal_id_glm,
bernoulli_logit_glm, poisson_log_glm, ...) and rows are unweighted, the
program uses it; otherwise it builds the linear predictor and calls the
distribution, vectorised, or row by row with weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..families import Family
from ..spec import ModelSpec
from .blocks import Program, decl
from .priors import add_prior


@dataclass(frozen=True)
class Likelihood:
    distribution: str  # Stan distribution, e.g. "normal"
    arguments: str  # its arguments after '|', in terms of {eta} and {trials}
    glm: str | None = None  # GLM function and arguments in {X}, {alpha}, {trials}


LIKELIHOODS: dict[tuple[str, str], Likelihood] = {
    ("gaussian", "identity"): Likelihood("normal", "{eta}, sigma", "normal_id_glm({X}, {alpha}, b, sigma)"),
    ("gaussian", "log"): Likelihood("normal", "exp({eta}), sigma"),
    ("student", "identity"): Likelihood("student_t", "nu, {eta}, sigma"),
    ("lognormal", "identity"): Likelihood("lognormal", "{eta}, sigma"),
    ("bernoulli", "logit"): Likelihood("bernoulli_logit", "{eta}", "bernoulli_logit_glm({X}, {alpha}, b)"),
    ("bernoulli", "probit"): Likelihood("bernoulli", "Phi({eta})"),
    ("bernoulli", "cloglog"): Likelihood("bernoulli", "inv_cloglog({eta})"),
    ("binomial", "logit"): Likelihood(
        "binomial_logit", "{trials}, {eta}", "binomial_logit_glm({trials}, {X}, {alpha}, b)"
    ),
    ("binomial", "probit"): Likelihood("binomial", "{trials}, Phi({eta})"),
    ("binomial", "cloglog"): Likelihood("binomial", "{trials}, inv_cloglog({eta})"),
    ("poisson", "log"): Likelihood("poisson_log", "{eta}", "poisson_log_glm({X}, {alpha}, b)"),
    ("negbinomial", "log"): Likelihood(
        "neg_binomial_2_log", "{eta}, shape", "neg_binomial_2_log_glm({X}, {alpha}, b, shape)"
    ),
    ("gamma", "log"): Likelihood("gamma", "shape, shape ./ exp({eta})"),
    ("gamma", "inverse"): Likelihood("gamma", "shape, shape * {eta}"),
    ("beta", "logit"): Likelihood("beta_proportion", "inv_logit({eta}), phi"),
}

AUX_DECLARATIONS = {
    "sigma": ("real<lower=0> sigma;", "residual standard deviation", "the residual sd"),
    "nu": ("real<lower=1> nu;", "degrees of freedom of the t distribution", "the degrees of freedom"),
    "shape": ("real<lower=0> shape;", "shape parameter", "the shape"),
    "phi": ("real<lower=0> phi;", "precision parameter", "the precision"),
}


def add_response(program: Program, spec: ModelSpec) -> None:
    fam = spec.family
    if fam.discrete:
        lower = "<lower=0, upper=1>" if fam.name == "bernoulli" else "<lower=0>"
        program.add("data", decl(f"array[N] int{lower} Y;", f"response: {spec.response}"))
    else:
        program.add("data", decl("vector[N] Y;", f"response: {spec.response}"))
    if fam.needs_trials:
        program.add("data", decl("array[N] int<lower=1> trials;", "number of trials of each observation"))
    if spec.has_offset:
        program.add("data", decl("vector[N] offsets;", "offset() terms: added to the linear predictor as they are"))
    if spec.has_weights:
        program.add("data", decl("vector<lower=0>[N] weights;", "likelihood weights"))


def add_likelihood(program: Program, spec: ModelSpec, group_pieces: list[str]) -> None:
    """Family parameters with their priors, then the sampling statement.

    `group_pieces` are the group terms' additions to the linear predictor.
    """
    for name in spec.family.aux:
        declaration, comment, prior_comment = AUX_DECLARATIONS[name]
        program.add("parameters", decl(declaration, comment))
        add_prior(program, name, name, spec.priors_of(name), None, prior_comment)

    likelihood = likelihood_of(spec.family)
    design = "Xc" if spec.has_intercept else "X"
    pieces = (["Intercept_c"] if spec.has_intercept else []) + (["offsets"] if spec.has_offset else [])
    pieces += group_pieces
    program.add("model", "// likelihood", "if (!prior_only) {")
    if likelihood.glm and not spec.has_weights:
        alpha = _alpha(pieces, program)
        glm = likelihood.glm.format(X=design, alpha=alpha, trials="trials")
        name, _, arguments = glm.partition("(")
        program.add("model", f"  target += {name}_{_suffix(spec.family)}(Y | {arguments};")
    else:
        eta = pieces + ([f"{design} * b"] if spec.population else [])
        _add_eta(program, eta)
        if spec.has_weights:
            call = _call(likelihood, spec.family, "Y[n]", "eta[n]", "trials[n]", vectorised=False)
            program.add("model", "  for (n in 1:N) {", f"    target += weights[n] * {call};", "  }")
        else:
            program.add("model", f"  target += {_call(likelihood, spec.family, 'Y', 'eta', 'trials')};")
    program.add("model", "}")


def likelihood_of(fam: Family) -> Likelihood:
    return LIKELIHOODS[(fam.name, fam.link)]


def _suffix(fam: Family, vectorised: bool = True) -> str:
    kind = "pmf" if fam.discrete else "pdf"
    # `lupdf` drops constants, which is all sampling needs; weighted rows
    # need the full density so each row's weight scales a complete term
    return f"lup{kind[1:]}" if vectorised else f"l{kind}"


def _call(likelihood: Likelihood, fam: Family, y: str, eta: str, trials: str, vectorised: bool = True) -> str:
    arguments = likelihood.arguments.format(eta=eta, trials=trials)
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
    first, rest = (pieces[0], pieces[1:]) if pieces else ("rep_vector(0, N)", [])
    if first == "Intercept_c":
        first = "rep_vector(Intercept_c, N)"
    program.add("model", decl(f"  vector[N] eta = {first};", comment), *[f"  eta += {p};" for p in rest])
