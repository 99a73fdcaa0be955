"""Binary responses (0 or 1)."""

from __future__ import annotations

import numpy as np

from .base import BINARY, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    return (rng.random(np.shape(mean)) < mean).astype(float)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    return stats.bernoulli.logpmf(y, mean)


BERNOULLI = FamilyDefinition(
    "bernoulli",
    {
        "logit": Likelihood("bernoulli_logit", "{eta}", "bernoulli_logit_glm({X}, {alpha}, b)"),
        "probit": Likelihood("bernoulli", "Phi({eta})"),
        "cloglog": Likelihood("bernoulli", "inv_cloglog({eta})"),
    },
    BINARY,
    "array[N] int<lower=0, upper=1> Y;",
    _draw,
    _log_likelihood,
    discrete=True,
    unit_scale=True,
)
