"""Semicontinuous responses (amounts that are zero or positive, e.g.
spending): a zero with probability hu, else lognormal with log-scale mean eta."""

from __future__ import annotations

import numpy as np

from .base import HU, NON_NEGATIVE, SIGMA, FamilyDefinition, Likelihood
from .zeros import hurdle_log_likelihood, with_zeros

FUNCTION = (
    "// one row: a zero (probability hu) or a lognormal amount with log-scale mean mu",
    "real hurdle_lognormal_lpdf(real y, real mu, real sigma, real hu) {",
    "  if (y == 0) {",
    "    return log(hu);",
    "  }",
    "  return log1m(hu) + lognormal_lpdf(y | mu, sigma);",
    "}",
)


def _draw(mean, aux, rng, trials):
    return with_zeros(np.exp(rng.normal(mean, aux["sigma"])), aux["hu"], rng)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    with np.errstate(divide="ignore"):  # the lognormal density is 0 at the zeros
        positive = stats.lognorm.logpdf(y, aux["sigma"], scale=np.exp(mean))
    return hurdle_log_likelihood(y, aux["hu"], positive)


HURDLE_LOGNORMAL = FamilyDefinition(
    "hurdle_lognormal",
    {"identity": Likelihood("hurdle_lognormal", "{eta}, sigma, hu", functions=FUNCTION)},
    NON_NEGATIVE,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(SIGMA, HU),
    location_values=lambda y: np.log(y[y > 0]),  # priors centre on the positive amounts
    expected=lambda mean, aux: (1 - aux["hu"]) * np.exp(mean + aux["sigma"] ** 2 / 2),
)
