"""Overdispersed counts: variance mean + mean^2 / shape (Stan's neg_binomial_2)."""

from __future__ import annotations

from .base import COUNT, SHAPE, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    shape = aux["shape"]
    return rng.poisson(rng.gamma(shape, mean / shape)).astype(float)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    shape = aux["shape"]
    return stats.nbinom.logpmf(y, shape, shape / (shape + mean))


NEGBINOMIAL = FamilyDefinition(
    "negbinomial",
    {"log": Likelihood("neg_binomial_2_log", "{eta}, shape", "neg_binomial_2_log_glm({X}, {alpha}, b, shape)")},
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    aux=(SHAPE,),
    discrete=True,
    unit_scale=True,
)
