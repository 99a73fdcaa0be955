"""ModelSpec: the immutable description of a model that every later stage
reads. It names things (columns, factors, levels, coefficients) and records
the model's structure; it holds no design matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .families import Family
from .priors import Prior
from .term_kinds import TermKind, kind_of


@dataclass(frozen=True)
class GroupTerm:
    """One block of group-level effects: coefficients varying over a factor.

    Several terms may share a factor (`(1 | g) + (0 + x | g)`); effects in
    different terms are independent.
    """

    factor: str
    coefficients: tuple[str, ...]
    levels: tuple[str, ...]
    correlated: bool
    label: str  # the formula text it came from, e.g. "(1 + x | g)"
    dpar: str | None = None  # the auxiliary parameter whose formula it is in (None: the location)
    # a term shared by several formulas of a bf() (brms's `(1 |ID| g)` in each):
    # the formula of each coefficient, in order (empty: all are in `dpar`'s)
    parts: tuple[str | None, ...] = ()
    # sample the effects themselves (centred) or standardised ones (non-centred);
    # stanmer.parametrisation decides from the data, `centered=` overrides;
    # None: not decided, as in a program that integrates the effects out
    centred: bool | None = None
    centring_reason: str = field(default="", compare=False)  # for the program's comment

    @property
    def kind(self) -> TermKind:
        """How the Stan program represents the term (part of the structure)."""
        return kind_of(self.coefficients, self.centred)

    @property
    def names(self) -> tuple[str, ...]:
        """The coefficients as results name them: an auxiliary part's carry its
        name as brms's do ("sigma_Intercept"), so one factor's effects in
        several parts stay apart."""
        return tuple(part_name(part, c) for part, c in zip(self.coefficient_parts, self.coefficients))

    @property
    def coefficient_parts(self) -> tuple[str | None, ...]:
        """The formula (None: the response's) each coefficient belongs to."""
        return self.parts or (self.dpar,) * len(self.coefficients)


def part_name(dpar: str | None, name: str) -> str:
    """A coefficient's name in the results: as it is for the location, else prefixed by its part."""
    return name if dpar is None else f"{dpar}_{name}"


@dataclass(frozen=True)
class AuxPart:
    """An auxiliary parameter with its own formula (bf(..., sigma="~ x")): per
    row, the inverse link of its own linear predictor instead of one constant.
    Its group terms are in ModelSpec.group_terms, marked with its name."""

    name: str  # the family's auxiliary parameter, e.g. "sigma"
    formula: str  # its right-hand side as written, e.g. "~ x + (1 | g)"
    link: str  # log for positive parameters, logit for probabilities (families/base.AUX_LINKS)
    has_intercept: bool
    population: tuple[str, ...]  # population-level columns, intercept excluded

    @property
    def coefficients(self) -> tuple[str, ...]:
        """Its population effects as the results name them, intercept first."""
        return tuple(part_name(self.name, c) for c in (("Intercept",) if self.has_intercept else ()) + self.population)


@dataclass(frozen=True)
class ModelSpec:
    formula: str
    response: str
    family: Family
    has_intercept: bool
    population: tuple[str, ...]  # population-level columns, intercept excluded
    group_terms: tuple[GroupTerm, ...]
    priors: tuple[Prior, ...]
    n_obs: int
    has_offset: bool = False
    has_weights: bool = False
    censored: bool = False  # cens(): rows grouped by censoring kind, as data
    known_se: bool = False  # se(): known standard errors add to the residual sd
    response_levels: tuple[str, ...] = ()  # ordinal families: the categories, in order (coded 1..n)
    aux_parts: tuple[AuxPart, ...] = ()  # auxiliary parameters with their own formula

    @property
    def constant_aux(self) -> tuple[str, ...]:
        """The family's auxiliary parameters estimated as one constant (those without a formula)."""
        modelled = {part.name for part in self.aux_parts}
        return tuple(name for name in self.family.aux if name not in modelled)

    def part_terms(self, dpar: str | None) -> list[tuple[int, GroupTerm]]:
        """(1-based Stan index, term) for the group terms with coefficients in one part (None: the location)."""
        return [(i, t) for i, t in enumerate(self.group_terms, 1) if dpar in t.coefficient_parts]

    @property
    def intercepts(self) -> tuple[str, ...]:
        """The intercept's names among the population effects: "Intercept", or
        for an ordinal family its thresholds "Intercept[1]" .. "Intercept[n-1]" (brms's names)."""
        if not self.has_intercept:
            return ()
        if self.family.definition.ordinal:
            return tuple(f"Intercept[{k}]" for k in range(1, len(self.response_levels)))
        return ("Intercept",)

    def terms_of(self, factor: str) -> list[tuple[int, GroupTerm]]:
        """(1-based Stan index, term) for every term grouped by `factor`."""
        return [(i, t) for i, t in enumerate(self.group_terms, 1) if t.factor == factor]

    @property
    def factors(self) -> list[str]:
        """Grouping factors in order of first appearance."""
        return list(dict.fromkeys(t.factor for t in self.group_terms))

    def priors_of(self, cls: str, group: str | None = None, dpar: str | None = None) -> list[Prior]:
        """The priors of one class in one part (dpar None: the location)."""
        return [p for p in self.priors if p.cls == cls and (group is None or p.group == group) and p.dpar == dpar]
