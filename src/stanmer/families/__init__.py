"""Response families. Each lives in one module of this package (its links,
Stan likelihood, auxiliary parameters with their default priors, support,
and numpy draws and log-likelihood); FAMILIES lists them.

Adding a family: one module defining a FamilyDefinition, one line below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import FormulaError
from .base import Aux, FamilyDefinition
from .bernoulli import BERNOULLI
from .beta import BETA
from .binomial import BINOMIAL
from .cumulative import CUMULATIVE
from .exponential import EXPONENTIAL
from .gamma import GAMMA
from .gaussian import GAUSSIAN
from .hurdle_lognormal import HURDLE_LOGNORMAL
from .hurdle_negbinomial import HURDLE_NEGBINOMIAL
from .hurdle_poisson import HURDLE_POISSON
from .links import LINKS
from .lognormal import LOGNORMAL
from .negbinomial import NEGBINOMIAL
from .poisson import POISSON
from .student import STUDENT
from .weibull import WEIBULL
from .zero_inflated_negbinomial import ZERO_INFLATED_NEGBINOMIAL
from .zero_inflated_poisson import ZERO_INFLATED_POISSON

FAMILIES: dict[str, FamilyDefinition] = {
    definition.name: definition
    for definition in (
        GAUSSIAN, STUDENT, LOGNORMAL, BERNOULLI, BINOMIAL, POISSON, NEGBINOMIAL, GAMMA, BETA, EXPONENTIAL, WEIBULL,
        ZERO_INFLATED_POISSON, ZERO_INFLATED_NEGBINOMIAL, HURDLE_POISSON, HURDLE_NEGBINOMIAL, HURDLE_LOGNORMAL,
        CUMULATIVE,
    )
}

ALIASES = {
    "normal": "gaussian",
    "student_t": "student",
    "negative_binomial": "negbinomial",
    "neg_binomial": "negbinomial",
    "logistic": "bernoulli",
    "zero_inflated_negative_binomial": "zero_inflated_negbinomial",
    "hurdle_negative_binomial": "hurdle_negbinomial",
}


@dataclass(frozen=True)
class Family:
    """A family with its chosen link, as a model uses it."""

    name: str
    link: str
    aux: tuple[str, ...] = ()  # auxiliary parameters, e.g. ("sigma",)
    discrete: bool = False  # integer response (Stan `array[N] int`)
    needs_trials: bool = False  # binomial: successes out of trials

    def __str__(self) -> str:
        return f"{self.name}({self.link})"

    @property
    def definition(self) -> FamilyDefinition:
        return FAMILIES[self.name]

    @property
    def aux_definitions(self) -> tuple[Aux, ...]:
        """The auxiliary parameters this model estimates, in the family's order."""
        return tuple(parameter for parameter in self.definition.aux if parameter.name in self.aux)

    def without_aux(self, name: str) -> "Family":
        """The family with an auxiliary parameter fixed by data (se() fixes sigma)."""
        return replace(self, aux=tuple(a for a in self.aux if a != name))


def family(name: str | Family = "gaussian", link: str | None = None) -> Family:
    """A Family by name, with its default link unless one is given,
    e.g. `family("bernoulli", "probit")`."""
    if isinstance(name, Family):
        return name if link is None else family(name.name, link)
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in FAMILIES:
        raise FormulaError(f"unknown family {name!r}; choose one of: {', '.join(FAMILIES)}")
    definition = FAMILIES[key]
    chosen = definition.links[0] if link is None else link
    if chosen not in definition.links:
        raise FormulaError(f"family {key} has no link {link!r}; its links are: {', '.join(definition.links)}")
    aux = tuple(parameter.name for parameter in definition.aux)
    return Family(key, chosen, aux, definition.discrete, definition.needs_trials)


def invalid_rows(fam: Family, y: np.ndarray) -> tuple[np.ndarray, str]:
    """Positions of responses outside the family's support, and what it allows."""
    support = fam.definition.support
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(~support.check(y)), support.description


def inverse_link(fam: Family, eta: np.ndarray) -> np.ndarray:
    """The mean (for binomial the success probability) of a linear predictor."""
    return LINKS[fam.link].inverse(eta)


def location(fam: Family, eta: np.ndarray, aux: dict[str, np.ndarray]) -> np.ndarray:
    """What the family's draws, log-likelihood and expectation read as `mean`:
    the inverse link of the linear predictor (for binomial the success
    probability), or the family's own location (ordinal: category log probabilities)."""
    own = fam.definition.location
    return inverse_link(fam, eta) if own is None else own(fam.link, eta, aux)


def aux_parameters() -> dict[str, Aux]:
    """Every family's auxiliary parameters, by name (each name means one thing)."""
    return {parameter.name: parameter for definition in FAMILIES.values() for parameter in definition.aux}
