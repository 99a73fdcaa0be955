"""Student's t: a normal with heavier tails, for outlying responses."""

from __future__ import annotations

import numpy as np

from .base import REAL, SIGMA, Aux, FamilyDefinition, Likelihood

NU = Aux(
    "nu",
    "real<lower=1> nu;",
    "degrees of freedom of the t distribution",
    "the degrees of freedom",
    lambda definition, y: ("gamma", (2.0, 0.1)),  # brms's default for the t's degrees of freedom
    link="logm1",  # brms's: nu = 1 + exp(eta) stays above the declaration's bound
)


def _draw(mean, aux, rng, trials):
    return mean + aux["sigma"] * rng.standard_t(np.broadcast_to(aux["nu"], np.shape(mean)))


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    return stats.t.logpdf(y, aux["nu"], mean, aux["sigma"])


def _log_cdf(y, mean, aux):
    from scipy import stats

    return stats.t.logcdf(y, aux["nu"], mean, aux["sigma"])


def _log_ccdf(y, mean, aux):
    from scipy import stats

    return stats.t.logsf(y, aux["nu"], mean, aux["sigma"])


STUDENT = FamilyDefinition(
    "student",
    {"identity": Likelihood("student_t", "nu, {eta}, sigma")},
    REAL,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(SIGMA, NU),
    log_cdf=_log_cdf,
    log_ccdf=_log_ccdf,
)
