"""Overdispersed counts from two processes: whether the count is zero
(probability hu), and, if not, a negative binomial count truncated to 1, 2, ..."""

from __future__ import annotations

import numpy as np

from .base import COUNT, HU, SHAPE, FamilyDefinition, Likelihood
from .zeros import hurdle_log_likelihood, with_zeros

FUNCTION = (
    "// one row: a zero (probability hu) or a negative binomial count above zero with log mean eta",
    "real hurdle_neg_binomial_2_log_lpmf(int y, real eta, real shape, real hu) {",
    "  if (y == 0) {",
    "    return log(hu);",
    "  }",
    "  return log1m(hu) + neg_binomial_2_log_lpmf(y | eta, shape)",
    "         - log1m_exp(neg_binomial_2_log_lpmf(0 | eta, shape));",
    "}",
)


def _probability(mean, shape):
    """scipy's nbinom success probability for mean and shape."""
    return shape / (shape + mean)


def _draw(mean, aux, rng, trials):
    from scipy import stats

    shape = aux["shape"]
    mean = np.broadcast_to(mean, np.shape(mean))
    p = _probability(mean, shape)
    u = rng.uniform(stats.nbinom.cdf(0, shape, p), 1.0)
    positive = np.maximum(stats.nbinom.ppf(u, shape, p), 1.0)
    return with_zeros(positive, aux["hu"], rng)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    shape = aux["shape"]
    p = _probability(mean, shape)
    # truncated to above zero: divided by 1 - P(0)
    with np.errstate(divide="ignore"):
        positive = stats.nbinom.logpmf(y, shape, p) - np.log(-np.expm1(stats.nbinom.logpmf(0, shape, p)))
    return hurdle_log_likelihood(y, aux["hu"], positive)


def _expected(mean, aux):
    zero = (aux["shape"] / (aux["shape"] + mean)) ** aux["shape"]
    return (1 - aux["hu"]) * mean / (1 - zero)


HURDLE_NEGBINOMIAL = FamilyDefinition(
    "hurdle_negbinomial",
    {"log": Likelihood("hurdle_neg_binomial_2_log", "{eta}, shape, hu", functions=FUNCTION)},
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    aux=(SHAPE, HU),
    discrete=True,
    unit_scale=True,
    expected=_expected,
)
