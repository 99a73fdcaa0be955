"""What a family definition is made of: its likelihood in Stan for each
link, its auxiliary parameters, the responses it supports, and its numpy
side (response draws and log-likelihood) for prediction and loo.

Each family lives in its own module of this package and is listed once in
`families.FAMILIES`; no other module names a family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import FormulaError

Draw = Callable[[np.ndarray, dict[str, np.ndarray], np.random.Generator, "np.ndarray | None"], np.ndarray]
LogLikelihood = Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray], "np.ndarray | None"], np.ndarray]
LogCdf = Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Likelihood:
    """A family's sampling statement in Stan for one link."""

    distribution: str  # Stan distribution, e.g. "normal"
    arguments: str  # its arguments after '|', in terms of {eta} and {trials}
    glm: str | None = None  # GLM function and arguments in {X}, {alpha}, {trials}, used for unweighted rows
    # normal with mean {eta} and sd `sigma`: the log density is -N log(sigma) - RSS / (2 sigma^2),
    # so it can be written through sufficient statistics (see stanmer.sufficient_statistics)
    residual_sum_of_squares: bool = False
    # Stan functions defining `distribution` where Stan has none (zero-inflated
    # and hurdle families); those take one row at a time.
    functions: tuple[str, ...] = ()
    # auxiliary parameters the GLM function also takes as a vector (one per row),
    # so an auxiliary formula for them keeps the GLM form
    glm_vector_aux: tuple[str, ...] = ()

    @property
    def vectorised(self) -> bool:
        return not self.functions


@dataclass(frozen=True)
class Support:
    """The responses a family accepts."""

    check: Callable[[np.ndarray], np.ndarray]  # True where a response is allowed
    description: str  # for error messages: "positive numbers"


REAL = Support(np.isfinite, "finite numbers")
POSITIVE = Support(lambda y: np.isfinite(y) & (y > 0), "positive numbers")
UNIT = Support(lambda y: (y > 0) & (y < 1), "numbers strictly between 0 and 1")
BINARY = Support(lambda y: (y == 0) | (y == 1), "0 or 1")
NON_NEGATIVE = Support(lambda y: np.isfinite(y) & (y >= 0), "non-negative numbers")
COUNT = Support(lambda y: np.isfinite(y) & (y >= 0) & (np.mod(y, 1) == 0), "non-negative integers")


@dataclass(frozen=True)
class Aux:
    """An auxiliary parameter of a family (sigma, shape, ...)."""

    name: str
    declaration: str  # Stan parameter declaration, with its bounds
    comment: str  # what it is, beside the declaration
    prior_comment: str  # what the prior is on, beside the prior
    default_prior: Callable[[FamilyDefinition, np.ndarray], tuple[str, tuple[float, ...]]]
    support: str = "positive"  # the prior class's support, see priors.DISTRIBUTIONS
    # With its own formula (bf(..., sigma="~ x")): the link of its linear
    # predictor (AUX_LINKS; brms's: log for positive, logit for probabilities)
    # and the centre of its intercept's default prior on that scale.
    link: str = ""
    centre: Callable[[FamilyDefinition, np.ndarray], float] = lambda definition, y: 0.0

    @property
    def formula_link(self) -> str:
        return self.link or ("logit" if self.support == "unit" else "log")


@dataclass(frozen=True)
class AuxLink:
    """How an auxiliary parameter's linear predictor becomes the parameter."""

    stan: str  # Stan expression of the inverse link in {eta}
    inverse: Callable[[np.ndarray], np.ndarray]  # the same in numpy


def _expit(eta: np.ndarray) -> np.ndarray:
    from scipy import special

    return special.expit(eta)


AUX_LINKS = {
    "log": AuxLink("exp({eta})", np.exp),
    "logit": AuxLink("inv_logit({eta})", _expit),
    "logm1": AuxLink("1 + exp({eta})", lambda eta: 1 + np.exp(eta)),  # above 1 (the t's degrees of freedom)
}


@dataclass(frozen=True)
class FamilyDefinition:
    name: str
    likelihoods: dict[str, Likelihood]  # by link; the first link is the default
    support: Support
    response_declaration: str  # the Stan data declaration of Y
    draw: Draw  # posterior predictive draws: (mean, aux, rng, trials) -> y
    log_likelihood: LogLikelihood  # pointwise: (y, mean, aux, trials) -> log p(y)
    aux: tuple[Aux, ...] = ()
    discrete: bool = False  # integer response (Stan `array[N] int`)
    needs_trials: bool = False  # binomial: successes out of trials
    # The response on the scale of the linear predictor under the identity
    # link (lognormal's is log y): where default priors are centred and scaled.
    location_values: Callable[[np.ndarray], np.ndarray] = lambda y: y
    # Binary, count and proportion responses: the link scale's own unit is
    # the scale of default priors.
    unit_scale: bool = False
    # Censored responses need the log cdf and log complementary cdf (y, mean,
    # aux) -> log P(Y <= y), log P(Y > y); families without them refuse cens().
    log_cdf: LogCdf | None = None
    log_ccdf: LogCdf | None = None
    # The response's expectation from the location and aux (predict kind="mean")
    # where it is not the inverse-linked location itself (zero-inflated, hurdle).
    expected: Callable[[np.ndarray, dict[str, np.ndarray]], np.ndarray] | None = None
    # What draw, log_likelihood and expected read as `mean` where it is not the
    # inverse-linked linear predictor: (link, eta (S, rows), aux) -> location
    # (ordinal families: each category's log probability, (S, rows, categories)).
    location: Callable[[str, np.ndarray, dict[str, np.ndarray]], np.ndarray] | None = None
    # Ordinal responses: one of n_categories ordered categories, coded 1..n as
    # data. The formula's intercept becomes n - 1 ordered thresholds
    # (`Intercept_c` in the program, passed to the likelihood, not added to eta)
    # and prediction reads them as aux["thresholds"], (S, 1, n - 1).
    ordinal: bool = False

    @property
    def censorable(self) -> bool:
        return self.log_cdf is not None and self.log_ccdf is not None

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(self.likelihoods)

    def link_scale(self, link: str, y: np.ndarray) -> tuple[float, float]:
        """(centre, scale) of the response on the link scale.

        Identity links use the response itself (its log for lognormal). Binary,
        count and proportion families use scale 1, the unit of the logit/log
        scale, centred on the link of the mean; ordinal ones scale 1 about 0.
        Positive continuous responses
        with a log or inverse link use the sd of the linked response.
        """
        from .links import LINKS

        if self.ordinal:  # the latent variable's own unit (logistic or normal), thresholds about 0
            return 0.0, 1.0
        if link == "identity":
            values = self.location_values(y)
            return float(np.mean(values)), spread(values)
        mean = float(np.mean(y))
        forward = LINKS[link].forward
        if self.unit_scale:
            bounded = min(max(mean, 0.01), 0.99) if link != "log" else max(mean, 0.01)
            return float(forward(bounded)), 1.0
        positive = y[y > 0]
        if positive.size < 2 or mean <= 0:
            return 0.0, 1.0
        return float(forward(mean)), spread(forward(positive))


def spread(values: np.ndarray) -> float:
    """A column's sd, or 1 where it is (nearly) constant so defaults stay finite."""
    sd = float(np.std(values))
    return sd if np.isfinite(sd) and sd > 1e-12 else 1.0


def trials_for(trials: np.ndarray | None, mean: np.ndarray) -> np.ndarray:
    """Binomial trials broadcast against the means, as integers."""
    if trials is None:
        raise FormulaError("binomial predictions need the number of trials of every row")
    return np.broadcast_to(trials, np.shape(mean)).astype(np.int64)


# --- auxiliary parameters several families share ---------------------------------


def _sigma_prior(definition: FamilyDefinition, y: np.ndarray) -> tuple[str, tuple[float, ...]]:
    # sigma lives on the scale of the location (the log scale for lognormal)
    return "student_t", (3.0, 0.0, spread(definition.location_values(y)))


SIGMA = Aux(
    "sigma", "real<lower=0> sigma;", "residual standard deviation", "the residual sd", _sigma_prior,
    centre=lambda definition, y: float(np.log(spread(definition.location_values(y)))),
)
SHAPE = Aux(
    "shape", "real<lower=0> shape;", "shape parameter", "the shape", lambda definition, y: ("gamma", (0.01, 0.01))
)


# The probability of an extra zero (zero-inflated families) or of a zero at
# all (hurdle families): a constant with brms's uniform beta(1, 1) prior.
ZI = Aux(
    "zi", "real<lower=0, upper=1> zi;", "zero-inflation probability", "the zero-inflation probability",
    lambda definition, y: ("beta", (1.0, 1.0)), support="unit",
)
HU = Aux(
    "hu", "real<lower=0, upper=1> hu;", "hurdle probability (of a zero)", "the hurdle probability",
    lambda definition, y: ("beta", (1.0, 1.0)), support="unit",
)
