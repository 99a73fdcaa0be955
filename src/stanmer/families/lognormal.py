"""The lognormal: a normal model of log y."""

from __future__ import annotations

import numpy as np

from .base import POSITIVE, SIGMA, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    return np.exp(rng.normal(mean, aux["sigma"]))


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    return stats.lognorm.logpdf(y, aux["sigma"], scale=np.exp(mean))


def _log_cdf(y, mean, aux):
    from scipy import stats

    return stats.norm.logcdf(np.log(y), mean, aux["sigma"])


def _log_ccdf(y, mean, aux):
    from scipy import stats

    return stats.norm.logsf(np.log(y), mean, aux["sigma"])


LOGNORMAL = FamilyDefinition(
    "lognormal",
    {"identity": Likelihood("lognormal", "{eta}, sigma")},
    POSITIVE,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(SIGMA,),
    location_values=np.log,
    log_cdf=_log_cdf,
    log_ccdf=_log_ccdf,
)
