"""Response families: what the likelihood is, which links it accepts, what
responses it supports, and the numpy side prediction needs.

Code generation and data checks read a Family as plain data; the functions at
the bottom give prediction and log-likelihoods their numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special, stats

from .errors import FormulaError


@dataclass(frozen=True)
class Family:
    name: str
    link: str
    aux: tuple[str, ...] = ()  # auxiliary parameters, e.g. ("sigma",)
    discrete: bool = False  # integer response (Stan `array[N] int`)
    needs_trials: bool = False  # binomial: successes out of trials

    def __str__(self) -> str:
        return f"{self.name}({self.link})"


@dataclass(frozen=True)
class _FamilyInfo:
    links: tuple[str, ...]  # the first is the default
    aux: tuple[str, ...] = ()
    discrete: bool = False
    needs_trials: bool = False
    support: str = "real"  # see SUPPORT_CHECKS


FAMILIES: dict[str, _FamilyInfo] = {
    "gaussian": _FamilyInfo(("identity", "log"), ("sigma",)),
    "student": _FamilyInfo(("identity",), ("sigma", "nu")),
    "lognormal": _FamilyInfo(("identity",), ("sigma",), support="positive"),
    "bernoulli": _FamilyInfo(("logit", "probit", "cloglog"), discrete=True, support="binary"),
    "binomial": _FamilyInfo(("logit", "probit", "cloglog"), discrete=True, needs_trials=True, support="count"),
    "poisson": _FamilyInfo(("log",), discrete=True, support="count"),
    "negbinomial": _FamilyInfo(("log",), ("shape",), discrete=True, support="count"),
    "gamma": _FamilyInfo(("log", "inverse"), ("shape",), support="positive"),
    "beta": _FamilyInfo(("logit",), ("phi",), support="unit"),
}

ALIASES = {
    "normal": "gaussian",
    "student_t": "student",
    "negative_binomial": "negbinomial",
    "neg_binomial": "negbinomial",
    "logistic": "bernoulli",
}


def family(name: str | Family = "gaussian", link: str | None = None) -> Family:
    """A Family by name, with its default link unless one is given,
    e.g. `family("bernoulli", "probit")`."""
    if isinstance(name, Family):
        return name if link is None else family(name.name, link)
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in FAMILIES:
        raise FormulaError(f"unknown family {name!r}; choose one of: {', '.join(FAMILIES)}")
    info = FAMILIES[key]
    chosen = info.links[0] if link is None else link
    if chosen not in info.links:
        raise FormulaError(f"family {key} has no link {link!r}; its links are: {', '.join(info.links)}")
    return Family(key, chosen, info.aux, info.discrete, info.needs_trials)


def support(fam: Family) -> str:
    return FAMILIES[fam.name].support


# --- checks of a response against its family's support --------------------

SUPPORT_CHECKS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "real": (np.isfinite, "finite numbers"),
    "positive": (lambda y: np.isfinite(y) & (y > 0), "positive numbers"),
    "unit": (lambda y: (y > 0) & (y < 1), "numbers strictly between 0 and 1"),
    "binary": (lambda y: (y == 0) | (y == 1), "0 or 1"),
    "count": (lambda y: np.isfinite(y) & (y >= 0) & (np.mod(y, 1) == 0), "non-negative integers"),
}


def invalid_rows(fam: Family, y: np.ndarray) -> tuple[np.ndarray, str]:
    """Positions of responses outside the family's support, and what it allows."""
    check, allowed = SUPPORT_CHECKS[support(fam)]
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(~check(y)), allowed


# --- numpy side: what prediction and log-likelihoods need of a family ------
#
# `mean` is the inverse link of the linear predictor (for binomial the
# success probability), `aux` maps each auxiliary parameter to draws
# broadcastable against `mean`; `trials` only matters for binomial.

INVERSE_LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda eta: eta,
    "log": np.exp,
    "logit": special.expit,
    "probit": special.ndtr,
    "cloglog": lambda eta: -np.expm1(-np.exp(eta)),
    "inverse": lambda eta: 1.0 / eta,
}


def inverse_link(fam: Family, eta: np.ndarray) -> np.ndarray:
    return INVERSE_LINKS[fam.link](eta)


def draw_response(
    fam: Family,
    mean: np.ndarray,
    aux: dict[str, np.ndarray],
    rng: np.random.Generator,
    trials: np.ndarray | None = None,
) -> np.ndarray:
    """Posterior predictive draws of the response."""
    name = fam.name
    if name == "gaussian":
        return rng.normal(mean, aux["sigma"])
    if name == "student":
        return mean + aux["sigma"] * rng.standard_t(np.broadcast_to(aux["nu"], np.shape(mean)))
    if name == "lognormal":
        return np.exp(rng.normal(mean, aux["sigma"]))
    if name == "bernoulli":
        return (rng.random(np.shape(mean)) < mean).astype(float)
    if name == "binomial":
        return rng.binomial(_trials(trials, mean), mean).astype(float)
    if name == "poisson":
        return rng.poisson(mean).astype(float)
    if name == "negbinomial":
        shape = aux["shape"]
        return rng.poisson(rng.gamma(shape, mean / shape)).astype(float)
    if name == "gamma":
        shape = aux["shape"]
        return rng.gamma(shape, mean / shape)
    if name == "beta":
        phi = aux["phi"]
        return rng.beta(mean * phi, (1 - mean) * phi)
    raise FormulaError(f"no predictive draws for family {name}")


def log_likelihood(
    fam: Family,
    y: np.ndarray,
    mean: np.ndarray,
    aux: dict[str, np.ndarray],
    trials: np.ndarray | None = None,
) -> np.ndarray:
    """Pointwise log-likelihood of observed `y` (for loo and waic)."""
    name = fam.name
    if name == "gaussian":
        return stats.norm.logpdf(y, mean, aux["sigma"])
    if name == "student":
        return stats.t.logpdf(y, aux["nu"], mean, aux["sigma"])
    if name == "lognormal":
        return stats.lognorm.logpdf(y, aux["sigma"], scale=np.exp(mean))
    if name == "bernoulli":
        return stats.bernoulli.logpmf(y, mean)
    if name == "binomial":
        return stats.binom.logpmf(y, _trials(trials, mean), mean)
    if name == "poisson":
        return stats.poisson.logpmf(y, mean)
    if name == "negbinomial":
        shape = aux["shape"]
        return stats.nbinom.logpmf(y, shape, shape / (shape + mean))
    if name == "gamma":
        shape = aux["shape"]
        return stats.gamma.logpdf(y, shape, scale=mean / shape)
    if name == "beta":
        phi = aux["phi"]
        return stats.beta.logpdf(y, mean * phi, (1 - mean) * phi)
    raise FormulaError(f"no log-likelihood for family {name}")


def _trials(trials: np.ndarray | None, mean: np.ndarray) -> np.ndarray:
    if trials is None:
        raise FormulaError("binomial predictions need the number of trials of every row")
    return np.broadcast_to(trials, np.shape(mean)).astype(np.int64)
