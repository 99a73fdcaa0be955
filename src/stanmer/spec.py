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
    # sample the effects themselves (centred) or standardised ones (non-centred);
    # stanmer.parametrisation decides from the data, `centered=` overrides
    centred: bool = False
    centring_reason: str = field(default="", compare=False)  # for the program's comment

    @property
    def kind(self) -> TermKind:
        """How the Stan program represents the term (part of the structure)."""
        return kind_of(self.coefficients, self.centred)


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

    def priors_of(self, cls: str, group: str | None = None) -> list[Prior]:
        return [p for p in self.priors if p.cls == cls and (group is None or p.group == group)]
