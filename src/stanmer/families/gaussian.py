"""The normal distribution: identity link, or log."""

from __future__ import annotations

from .base import REAL, SIGMA, FamilyDefinition, Likelihood


def _draw(mean, aux, rng, trials):
    return rng.normal(mean, aux["sigma"])


def _log_likelihood(y, mean, aux, trials):
    from scipy import stats

    return stats.norm.logpdf(y, mean, aux["sigma"])


def _log_cdf(y, mean, aux):
    from scipy import stats

    return stats.norm.logcdf(y, mean, aux["sigma"])


def _log_ccdf(y, mean, aux):
    from scipy import stats

    return stats.norm.logsf(y, mean, aux["sigma"])


GAUSSIAN = FamilyDefinition(
    "gaussian",
    {
        "identity": Likelihood(
            "normal", "{eta}, sigma", "normal_id_glm({X}, {alpha}, b, sigma)", residual_sum_of_squares=True,
            glm_vector_aux=("sigma",),
        ),
        "log": Likelihood("normal", "exp({eta}), sigma"),
    },
    REAL,
    "vector[N] Y;",
    _draw,
    _log_likelihood,
    aux=(SIGMA,),
    log_cdf=_log_cdf,
    log_ccdf=_log_ccdf,
)
