"""Overdispersed counts with extra zeros: with probability zi a zero, else a
negative binomial count (mean exp(eta), variance mean + mean^2 / shape)."""

from __future__ import annotations

from .base import COUNT, SHAPE, ZI, FamilyDefinition, Likelihood
from .zeros import with_zeros, zero_inflated_log_likelihood
from .negbinomial import NEGBINOMIAL

FUNCTION = (
    "// one row: an extra zero (probability zi) or a negative binomial count with log mean eta",
    "real zero_inflated_neg_binomial_2_log_lpmf(int y, real eta, real shape, real zi) {",
    "  if (y == 0) {",
    "    return log_sum_exp(log(zi), log1m(zi) + neg_binomial_2_log_lpmf(0 | eta, shape));",
    "  }",
    "  return log1m(zi) + neg_binomial_2_log_lpmf(y | eta, shape);",
    "}",
)


def _draw(mean, aux, rng, trials):
    return with_zeros(NEGBINOMIAL.draw(mean, aux, rng, trials), aux["zi"], rng)


def _log_likelihood(y, mean, aux, trials):
    return zero_inflated_log_likelihood(y, aux["zi"], NEGBINOMIAL.log_likelihood(y, mean, aux, trials))


ZERO_INFLATED_NEGBINOMIAL = FamilyDefinition(
    "zero_inflated_negbinomial",
    {"log": Likelihood("zero_inflated_neg_binomial_2_log", "{eta}, shape, zi", functions=FUNCTION)},
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    aux=(SHAPE, ZI),
    discrete=True,
    unit_scale=True,
    expected=lambda mean, aux: (1 - aux["zi"]) * mean,
)
