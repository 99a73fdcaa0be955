"""Overdispersed counts from two processes: whether the count is zero
(probability hu), and, if not, a negative binomial count truncated to 1, 2, ..."""

from __future__ import annotations

import numpy as np

from .base import COUNT, HU, SHAPE, FamilyDefinition, Likelihood

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
    return np.where(rng.random(np.shape(mean)) < aux["hu"], 0.0, positive)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    shape, hu = aux["shape"], np.broadcast_to(aux["hu"], np.shape(mean))
    p = _probability(mean, shape)
    with np.errstate(divide="ignore"):
        zero = stats.nbinom.logpmf(0, shape, p)
        positive = np.log1p(-hu) + stats.nbinom.logpmf(y, shape, p) - np.log(-np.expm1(zero))
        return np.where(y == 0, np.log(hu), positive)


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
