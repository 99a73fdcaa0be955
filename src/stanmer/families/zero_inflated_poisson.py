"""Counts with more zeros than a Poisson gives: with probability zi a zero,
else a Poisson count (which may be zero too)."""

from __future__ import annotations

from .base import COUNT, ZI, FamilyDefinition, Likelihood
from .poisson import POISSON
from .zeros import with_zeros, zero_inflated_log_likelihood

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
    return with_zeros(POISSON.draw(mean, aux, rng, trials), aux["zi"], rng)


def _log_likelihood(y, mean, aux, trials):
    return zero_inflated_log_likelihood(y, aux["zi"], POISSON.log_likelihood(y, mean, aux, trials))


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
