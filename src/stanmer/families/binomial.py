"""Successes out of a known number of trials per row."""

from __future__ import annotations

from .base import COUNT, FamilyDefinition, Likelihood, trials_for


def _draw(mean, aux, rng, trials):
    return rng.binomial(trials_for(trials, mean), mean).astype(float)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    return stats.binom.logpmf(y, trials_for(trials, mean), mean)


BINOMIAL = FamilyDefinition(
    "binomial",
    {
        "logit": Likelihood("binomial_logit", "{trials}, {eta}", "binomial_logit_glm({trials}, {X}, {alpha}, b)"),
        "probit": Likelihood("binomial", "{trials}, Phi({eta})"),
        "cloglog": Likelihood("binomial", "{trials}, inv_cloglog({eta})"),
    },
    COUNT,
    "array[N] int<lower=0> Y;",
    _draw,
    _log_likelihood,
    discrete=True,
    needs_trials=True,
    unit_scale=True,
)
