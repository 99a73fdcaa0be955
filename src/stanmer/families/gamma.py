"""Positive continuous responses, parameterised by mean and shape."""

from __future__ import annotations

from .base import POSITIVE, SHAPE, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    shape = aux["shape"]
    return rng.gamma(shape, mean / shape)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    shape = aux["shape"]
    return stats.gamma.logpdf(y, shape, scale=mean / shape)


GAMMA = FamilyDefinition(
    "gamma",
    {
        "log": Likelihood("gamma", "shape, shape ./ exp({eta})"),
        "inverse": Likelihood("gamma", "shape, shape * {eta}"),
    },
    POSITIVE,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(SHAPE,),
)
