"""Counts from two processes: whether the count is zero (probability hu),
and, if not, a Poisson count truncated to 1, 2, ..."""

from __future__ import annotations

import numpy as np

from .base import COUNT, HU, FamilyDefinition, Likelihood
from .poisson import POISSON
from .zeros import hurdle_log_likelihood, with_zeros

FUNCTION = (
    "// one row: a zero (probability hu) or a Poisson count above zero with log mean eta",
    "real hurdle_poisson_log_lpmf(int y, real eta, real hu) {",
    "  if (y == 0) {",
    "    return log(hu);",
    "  }",
    "  return log1m(hu) + poisson_log_lpmf(y | eta) - log1m_exp(-exp(eta));",
    "}",
)


def _draw(mean, aux, rng, trials):
    from scipy import stats

    # a Poisson count above zero by inversion: u uniform above P(0)
    mean = np.broadcast_to(mean, np.shape(mean))
    u = rng.uniform(stats.poisson.cdf(0, mean), 1.0)
    positive = np.maximum(stats.poisson.ppf(u, mean), 1.0)
    return with_zeros(positive, aux["hu"], rng)


def _log_likelihood(y, mean, aux, trials):
    # the Poisson truncated to above zero: divided by 1 - P(0) = 1 - exp(-mean)
    with np.errstate(divide="ignore"):
        positive = POISSON.log_likelihood(y, mean, aux, trials) - np.log(-np.expm1(-mean))
    return hurdle_log_likelihood(y, aux["hu"], positive)


HURDLE_POISSON = FamilyDefinition(
    "hurdle_poisson",
    {"log": Likelihood("hurdle_poisson_log", "{eta}, hu", functions=FUNCTION)},
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    aux=(HU,),
    discrete=True,
    unit_scale=True,
    expected=lambda mean, aux: (1 - aux["hu"]) * mean / -np.expm1(-mean),
)
