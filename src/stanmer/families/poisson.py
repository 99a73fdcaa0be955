"""Counts with variance equal to the mean."""

from __future__ import annotations

from .base import COUNT, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    return rng.poisson(mean).astype(float)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    return stats.poisson.logpmf(y, mean)


POISSON = FamilyDefinition(
    "poisson",
    {"log": Likelihood("poisson_log", "{eta}", "poisson_log_glm({X}, {alpha}, b)")},
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    discrete=True,
    unit_scale=True,
)
