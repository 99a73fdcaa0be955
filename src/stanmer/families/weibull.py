"""Positive responses (survival times) with a hazard that rises (shape > 1)
or falls (shape < 1) over time; log link on the mean, as brms."""

from __future__ import annotations

import numpy as np

from .base import POSITIVE, SHAPE, FamilyDefinition, Likelihood


def _scale(mean, shape):
    """Weibull scale with the given mean: mean / Gamma(1 + 1 / shape)."""
    from scipy import special

    return mean / special.gamma(1 + 1 / shape)


def _draw(mean, aux, rng, trials):
    shape = aux["shape"]
    return _scale(mean, shape) * rng.weibull(np.broadcast_to(shape, np.shape(mean)))


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    shape = aux["shape"]
    return stats.weibull_min.logpdf(y, shape, scale=_scale(mean, shape))


def _log_cdf(y, mean, aux):
    from scipy import stats

    shape = aux["shape"]
    return stats.weibull_min.logcdf(y, shape, scale=_scale(mean, shape))


def _log_ccdf(y, mean, aux):
    shape = aux["shape"]
    return -((y / _scale(mean, shape)) ** shape)


WEIBULL = FamilyDefinition(
    "weibull",
    {"log": Likelihood("weibull", "shape, exp({eta}) / tgamma(1 + 1 / shape)")},
    POSITIVE,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(SHAPE,),
    log_cdf=_log_cdf,
    log_ccdf=_log_ccdf,
)
