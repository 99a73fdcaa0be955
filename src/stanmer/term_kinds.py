"""The kinds of group term, each in one place.

A group term is one of three kinds, told apart by its coefficients (a `||`
bar was already split into one term per coefficient):

- intercept: `(1 | g)`, one effect per level
- single: one coefficient other than the intercept, `(0 + x | g)`
- correlated: two or more coefficients with a correlation matrix, `(1 + x | g)`

Each kind states what the later stages need of it: its Stan lines (code
generation), its data entries and prior targets (Stan data), how to read its
draws (results) and how to scale effects of new levels (prediction). Stan
text comes back as plain lines per block, so this module stays below
`codegen` in the import graph.

Each kind comes non-centred or centred (stanmer.parametrisation chooses per
term from the data). Non-centred, r = sd * z with z ~ std_normal, samples
well when a level's data say little about its effect; the correlated kind
adds a Cholesky factor L with an LKJ prior: r = (diag(sd) * L * z)'. The
program computes r where the likelihood needs it and does not store it: the
results stage rebuilds r exactly from the draws of sd, z (and L), so a draw
holds each effect once (InstEval: 4,128 fewer values per draw). Centred, r
is the parameter itself, r ~ normal(0, sd) (correlated: each level's row
~ multi_normal_cholesky(0, diag(sd) * L)), which samples well when each
level's data pin its effect; there is no z.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Union

import numpy as np

from .priors import Prior
from .stan_text import decl

if TYPE_CHECKING:
    from .spec import GroupTerm, ModelSpec


@dataclass(frozen=True)
class PriorTarget:
    """A parameter block with a prior: codegen states it, Stan data fills its numbers."""

    target: str  # prefix of its hyperparameter data, `<target>_prior_<argument>`
    parameter: str  # the Stan parameter the prior is on
    priors: tuple[Prior, ...]  # one per element of a vector; the first serves a scalar
    size: str | None  # Stan size of a vector parameter, None for a scalar
    comment: str


# A line of a Stan block, or the place of a prior statement in the model block.
StanLine = Union[str, PriorTarget]


class TermKind:
    """A kind of group term. Its defaults serve the one-coefficient kinds:
    a scalar sd and a vector of effects."""

    name: str
    has_correlations = False  # does the kind sample a correlation matrix?

    def __init__(self, centred: bool = False):
        self.centred = centred  # r is the parameter (no z)

    def __repr__(self) -> str:
        return f"<group term kind {self.name}{', centred' if self.centred else ''}>"

    # --- Stan program ---------------------------------------------------------

    def stan_lines(self, spec: ModelSpec, t: int, term: GroupTerm, sampled: bool = True) -> dict[str, list[StanLine]]:
        """Lines of group term t per Stan block. `sampled` False leaves the
        effects (z_t or r_t) out of the parameters, for a program that samples
        other coordinates and computes them (stanmer.ridges)."""
        sd_prior, *other_priors = self.prior_targets(spec, t, term)
        sd, effects, *others = self._parameters(t)
        return {
            "data": [
                "",
                f"// group term {t}: {term.label} -> {_what(term)}",
                f"// {_parametrisation(term)}",
                decl(f"int<lower=1> J_{t};", f"number of levels of {term.factor}"),
                decl(f"array[N] int<lower=1, upper=J_{t}> g_{t};", "level of each observation"),
                *self._design_data(t, term),
            ],
            "parameters": [f"// group term {t}: {term.label}", sd, *([effects] if sampled else []), *others],
            "model": [sd_prior, self._effects_prior(t), *other_priors],
            "generated quantities": self._generated(t, term),
        }

    def contribution(self, t: int) -> str:
        """The term's addition to the linear predictor, as a Stan expression."""
        return f"r_{t}[g_{t}]"

    def prior_targets(self, spec: ModelSpec, t: int, term: GroupTerm) -> list[PriorTarget]:
        """The term's prior blocks, its sds first."""
        return [PriorTarget(f"sd_{t}", f"sd_{t}", _sd_priors(spec, term), None, f"the sd of {_what(term)}")]

    def _design_data(self, t: int, term: GroupTerm) -> list[str]:
        return []

    def _parameters(self, t: int) -> list[str]:
        """Declarations of the sd(s), the effects, then any others."""
        effects = decl(f"vector[J_{t}] r_{t};", "effects (centred)") if self.centred else (
            decl(f"vector[J_{t}] z_{t};", "standardised effects"))
        return [decl(f"real<lower=0> sd_{t};", "standard deviation"), effects]

    def _effects_prior(self, t: int) -> str:
        if self.centred:
            return f"target += normal_lpdf(r_{t} | 0, sd_{t});"
        return f"target += std_normal_lpdf(z_{t});"

    def effects(self, t: int, term: GroupTerm) -> str | None:
        """The statement computing the effects r_t (a local where the likelihood
        uses them); None when centred: r_t is then a parameter."""
        if self.centred:
            return None
        return decl(f"vector[J_{t}] r_{t} = sd_{t} * z_{t};", _what(term))

    def _generated(self, t: int, term: GroupTerm) -> list[str]:
        return []

    # --- Stan data --------------------------------------------------------------

    def data_entries(self, t: int, term: GroupTerm, index: np.ndarray, Z: np.ndarray) -> dict[str, Any]:
        """Sizes, level indices and design values of term t (`Z` is (N, M))."""
        return {f"J_{t}": len(term.levels), f"g_{t}": index}

    # --- draws -----------------------------------------------------------------

    def sd_draws(self, t: int, variables: dict[str, np.ndarray]) -> np.ndarray:
        """(chain, draw, M) sds of term t."""
        return variables[f"sd_{t}"][..., None]

    def effect_draws(self, t: int, variables: dict[str, np.ndarray]) -> np.ndarray:
        """(chain, draw, J, M) effects of term t: r_t where the program samples the
        effects themselves (centred) or draws them (stanmer.marginal), else sd * z."""
        if self.centred or f"z_{t}" not in variables:
            return variables[f"r_{t}"][..., None]
        return (variables[f"sd_{t}"][..., None] * variables[f"z_{t}"])[..., None]

    def correlation_draws(self, t: int, variables: dict[str, np.ndarray]) -> np.ndarray:
        """(chain, draw, M, M) correlations among term t's effects."""
        chains, draws = variables[f"sd_{t}"].shape[:2]
        return np.ones((chains, draws, 1, 1))

    def correlation_pairs(self, term: GroupTerm) -> list[tuple[str, str]]:
        """The (first, second) coefficient pairs whose correlation is reported."""
        return []

    # --- prediction --------------------------------------------------------------

    def new_level_effects(
        self, z: np.ndarray, sd: np.ndarray, correlations: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """Effects of new levels from standard normals z (S, levels, M) and sds
        (S, M); `correlations()` gives the (S, M, M) correlations when needed."""
        return z * sd[:, None, :]


class InterceptKind(TermKind):
    name = "intercept"


class SingleKind(TermKind):
    """One coefficient other than the intercept: its effect multiplies a column."""

    name = "single"

    def contribution(self, t: int) -> str:
        return f"r_{t}[g_{t}] .* Z_{t}"

    def _design_data(self, t: int, term: GroupTerm) -> list[str]:
        return [decl(f"vector[N] Z_{t};", f"values of {term.coefficients[0]}")]

    def data_entries(self, t: int, term: GroupTerm, index: np.ndarray, Z: np.ndarray) -> dict[str, Any]:
        return {**super().data_entries(t, term, index, Z), f"Z_{t}": Z[:, 0]}


class CorrelatedKind(TermKind):
    """Several coefficients with sds and a correlation matrix."""

    name = "correlated"
    has_correlations = True

    def contribution(self, t: int) -> str:
        return f"rows_dot_product(Z_{t}, r_{t}[g_{t}])"

    def _design_data(self, t: int, term: GroupTerm) -> list[str]:
        return [
            decl(f"int<lower=2> M_{t};", "number of coefficients"),
            decl(f"matrix[N, M_{t}] Z_{t};", "their design matrix"),
        ]

    def _parameters(self, t: int) -> list[str]:
        effects = decl(f"matrix[J_{t}, M_{t}] r_{t};", "effects (centred), a row per level") if self.centred else (
            decl(f"matrix[M_{t}, J_{t}] z_{t};", "standardised effects"))
        return [
            decl(f"vector<lower=0>[M_{t}] sd_{t};", "standard deviations"),
            effects,
            decl(f"cholesky_factor_corr[M_{t}] L_{t};", "Cholesky factor of their correlation"),
        ]

    def _effects_prior(self, t: int) -> str:
        if self.centred:
            # every row ~ multi_normal_cholesky(0, diag(sd) L), as one expression over the
            # rows (Stan's function takes no matrix): the rows standardised, less log |det|
            return (
                f"target += std_normal_lpdf(to_vector(mdivide_left_tri_low(diag_pre_multiply(sd_{t}, L_{t}), r_{t}')))"
                f" - J_{t} * (sum(log(sd_{t})) + sum(log(diagonal(L_{t}))));"
            )
        return f"target += std_normal_lpdf(to_vector(z_{t}));"

    def effects(self, t: int, term: GroupTerm) -> str | None:
        if self.centred:
            return None
        return decl(f"matrix[J_{t}, M_{t}] r_{t} = (diag_pre_multiply(sd_{t}, L_{t}) * z_{t})';", _what(term))

    def _generated(self, t: int, term: GroupTerm) -> list[str]:
        return [
            decl(f"matrix[M_{t}, M_{t}] cor_{t} = multiply_lower_tri_self_transpose(L_{t});", f"correlations, {_what(term)}")
        ]

    def prior_targets(self, spec: ModelSpec, t: int, term: GroupTerm) -> list[PriorTarget]:
        what = _what(term)
        return [
            PriorTarget(f"sd_{t}", f"sd_{t}", _sd_priors(spec, term), f"M_{t}", f"the sds of {what}"),
            PriorTarget(f"cor_{t}", f"L_{t}", tuple(spec.priors_of("cor", term.factor, term.dpar)), None, f"the correlations of {what}"),
        ]

    def data_entries(self, t: int, term: GroupTerm, index: np.ndarray, Z: np.ndarray) -> dict[str, Any]:
        return {**super().data_entries(t, term, index, Z), f"M_{t}": len(term.coefficients), f"Z_{t}": Z}

    def sd_draws(self, t: int, variables: dict[str, np.ndarray]) -> np.ndarray:
        return variables[f"sd_{t}"]

    def effect_draws(self, t: int, variables: dict[str, np.ndarray]) -> np.ndarray:
        if self.centred:
            return variables[f"r_{t}"]
        sd, L, z = variables[f"sd_{t}"], variables[f"L_{t}"], variables[f"z_{t}"]  # (.., M), (.., M, M), (.., M, J)
        return np.swapaxes(sd[..., :, None] * (L @ z), -1, -2)

    def correlation_draws(self, t: int, variables: dict[str, np.ndarray]) -> np.ndarray:
        return variables[f"cor_{t}"]

    def correlation_pairs(self, term: GroupTerm) -> list[tuple[str, str]]:
        coefs = term.names
        return [(first, second) for i, first in enumerate(coefs) for second in coefs[i + 1 :]]

    def new_level_effects(
        self, z: np.ndarray, sd: np.ndarray, correlations: Callable[[], np.ndarray]
    ) -> np.ndarray:
        return super().new_level_effects(z @ np.swapaxes(_matrix_root(correlations()), 1, 2), sd, correlations)


INTERCEPT, SINGLE, CORRELATED = InterceptKind(), SingleKind(), CorrelatedKind()
_CENTRED = {kind.name: type(kind)(centred=True) for kind in (INTERCEPT, SINGLE, CORRELATED)}


def kind_of(coefficients: tuple[str, ...], centred: bool = False) -> TermKind:
    """The kind of a term with these coefficients (part of the model's structure)."""
    if len(coefficients) > 1:
        kind = CORRELATED
    else:
        kind = INTERCEPT if coefficients == ("Intercept",) else SINGLE
    return _CENTRED[kind.name] if centred else kind


def _parametrisation(term: GroupTerm) -> str:
    form = "centred" if term.centred else "non-centred"
    return f"{form}: {term.centring_reason}" if term.centring_reason else form


def _what(term: GroupTerm) -> str:
    return f"{', '.join(term.names)} by {term.factor}"


def _sd_priors(spec: ModelSpec, term: GroupTerm) -> tuple[Prior, ...]:
    """The term's sd priors in the order of its coefficients."""
    by_coef = {(p.dpar, p.coef): p for p in spec.priors if p.cls == "sd" and p.group == term.factor}
    return tuple(by_coef[part, c] for part, c in zip(term.coefficient_parts, term.coefficients))


def _matrix_root(cor: np.ndarray) -> np.ndarray:
    """A with A A^T = cor, per draw. An eigen root rather than Cholesky: a
    draw's correlation matrix can be numerically singular (|cor| near 1)."""
    values, vectors = np.linalg.eigh(cor)
    return vectors * np.sqrt(np.clip(values, 0.0, None))[:, None, :]
