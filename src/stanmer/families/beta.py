"""Proportions strictly between 0 and 1, by mean and precision."""

from __future__ import annotations

from .base import UNIT, Aux, FamilyDefinition, Likelihood

PHI = Aux(
    "phi", "real<lower=0> phi;", "precision parameter", "the precision", lambda definition, y: ("gamma", (0.01, 0.01))
)


def _draw(mean, aux, rng, trials):
    phi = aux["phi"]
    return rng.beta(mean * phi, (1 - mean) * phi)


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    phi = aux["phi"]
    return stats.beta.logpdf(y, mean * phi, (1 - mean) * phi)


BETA = FamilyDefinition(
    "beta",
    {"logit": Likelihood("beta_proportion", "inv_logit({eta}), phi")},
    UNIT,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(PHI,),
    unit_scale=True,
)
