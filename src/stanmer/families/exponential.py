"""Positive responses with a constant hazard (waiting times); log link on the mean."""

from __future__ import annotations

import numpy as np

from .base import POSITIVE, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    return rng.exponential(mean)


def _log_likelihood(y, mean, aux, trials):
    return -np.log(mean) - y / mean


def _log_cdf(y, mean, aux):
    return np.log(-np.expm1(-y / mean))


def _log_ccdf(y, mean, aux):
    return -y / mean


EXPONENTIAL = FamilyDefinition(
    "exponential",
    # Stan's exponential takes the rate, 1 / mean
    {"log": Likelihood("exponential", "exp(-{eta})")},
    POSITIVE,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    log_cdf=_log_cdf,
    log_ccdf=_log_ccdf,
)
