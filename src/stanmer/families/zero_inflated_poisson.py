"""Counts with more zeros than a Poisson gives: with probability zi a zero,
else a Poisson count (which may be zero too)."""

from __future__ import annotations

import numpy as np

from .base import COUNT, ZI, FamilyDefinition, Likelihood

FUNCTION = (
    "// one row: an extra zero (probability zi) or a Poisson count with log mean eta",
    "real zero_inflated_poisson_log_lpmf(int y, real eta, real zi) {",
    "  if (y == 0) {",
    "    return log_sum_exp(log(zi), log1m(zi) + poisson_log_lpmf(0 | eta));",
    "  }",
    "  return log1m(zi) + poisson_log_lpmf(y | eta);",
    "}",
)


def _draw(mean, aux, rng, trials):
    counts = rng.poisson(mean).astype(float)
    return np.where(rng.random(np.shape(mean)) < aux["zi"], 0.0, counts)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    zi = aux["zi"]
    with np.errstate(divide="ignore"):
        count = np.log1p(-zi) + stats.poisson.logpmf(y, mean)
        return np.where(y == 0, np.logaddexp(np.log(zi), count), count)


ZERO_INFLATED_POISSON = FamilyDefinition(
    "zero_inflated_poisson",
    {"log": Likelihood("zero_inflated_poisson_log", "{eta}, zi", functions=FUNCTION)},
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    aux=(ZI,),
    discrete=True,
    unit_scale=True,
    expected=lambda mean, aux: (1 - aux["zi"]) * mean,
)
