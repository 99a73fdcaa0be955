"""Response families: what the likelihood is and which links it accepts.

A family is plain data. Code generation, data checks and prediction each
read what they need from it; none of them lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .errors import FormulaError


@dataclass(frozen=True)
class Family:
    name: str
    link: str
    # Auxiliary (distributional) parameters, e.g. ("sigma",) for gaussian.
    aux: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({self.link})"


# family name -> (links in order of preference, auxiliary parameters)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gaussian": (("identity",), ("sigma",)),
}


def family(name: str | Family = "gaussian", link: str | None = None) -> Family:
    """A Family by name, with its default link unless one is given."""
    if isinstance(name, Family):
        return name if link is None else family(name.name, link)
    key = str(name).lower()
    if key not in FAMILIES:
        raise FormulaError(
            f"unknown family {name!r}; choose one of: {', '.join(sorted(FAMILIES))}"
        )
    links, aux = FAMILIES[key]
    chosen = links[0] if link is None else link
    if chosen not in links:
        raise FormulaError(
            f"family {key} has no link {link!r}; its links are: {', '.join(links)}"
        )
    return Family(key, chosen, aux)


# --- numpy side: what prediction and log-likelihoods need of a family ------
#
# Each function takes posterior draws already broadcast against the rows:
# `mean` is the expected response (inverse link applied), `aux` maps each
# auxiliary parameter name to draws broadcastable against `mean`.


INVERSE_LINKS = {
    "identity": lambda eta: eta,
    "log": np.exp,
    "logit": special.expit,
    "probit": special.ndtr,
    "cloglog": lambda eta: -np.expm1(-np.exp(eta)),
    "inverse": lambda eta: 1.0 / eta,
}


def inverse_link(fam: Family, eta: np.ndarray) -> np.ndarray:
    return INVERSE_LINKS[fam.link](eta)


def draw_response(fam: Family, mean: np.ndarray, aux: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Posterior predictive draws of the response."""
    if fam.name == "gaussian":
        return rng.normal(mean, aux["sigma"])
    raise NotImplementedError(f"no predictive draws for family {fam.name}")


def log_likelihood(fam: Family, y: np.ndarray, mean: np.ndarray, aux: dict[str, np.ndarray]) -> np.ndarray:
    """Pointwise log-likelihood of observed `y` (for loo and waic)."""
    if fam.name == "gaussian":
        return stats.norm.logpdf(y, mean, aux["sigma"])
    raise NotImplementedError(f"no log-likelihood for family {fam.name}")
