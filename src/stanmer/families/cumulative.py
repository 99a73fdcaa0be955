"""Ordinal responses, as brms's cumulative(): a latent eta + e (e logistic
for the logit link, standard normal for probit) falls into category k when
it lies between thresholds k - 1 and k, so

    P(y <= k) = F(threshold_k - eta),  k = 1 .. n - 1.

The response is coded 1..n (data); the formula's intercept becomes the n - 1
ordered thresholds. On the numpy side the family's location is each
category's log probability, (draws, rows, categories).
"""

from __future__ import annotations

import numpy as np

from .base import FamilyDefinition, Likelihood, Support


def _log_cdf(link: str):
    """log F for the link's latent distribution (both are symmetric: log(1 - F(x)) = log F(-x))."""
    from scipy import special

    return special.log_expit if link == "logit" else special.log_ndtr


def category_log_probabilities(link: str, eta: np.ndarray, aux: dict[str, np.ndarray]) -> np.ndarray:
    """log P(y = k) for k = 1..n: log(F(upper - eta) - F(lower - eta)) with
    the category's thresholds, worked out in whichever tail keeps precision."""
    log_f = _log_cdf(link)
    thresholds = aux["thresholds"]  # (S, 1, n - 1)
    distance = thresholds - np.asarray(eta)[..., None]  # (S, rows, n - 1)
    upper, lower = distance[..., 1:], distance[..., :-1]  # the middle categories' bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        in_lower_tail = _log_diff_exp(log_f(upper), log_f(lower))
        in_upper_tail = _log_diff_exp(log_f(-lower), log_f(-upper))  # 1 - F(lower) - (1 - F(upper))
        middle = np.where(lower > 0, in_upper_tail, in_lower_tail)
    first, last = log_f(distance[..., :1]), log_f(-distance[..., -1:])
    return np.concatenate([first, middle, last], axis=-1)


def _log_diff_exp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) - exp(b)) for a > b."""
    return a + np.log(-np.expm1(b - a))


def _draw(mean, aux, rng, trials):
    """Category codes 1..n drawn from each row's probabilities."""
    cumulative = np.cumsum(np.exp(mean), axis=-1)[..., :-1]
    u = rng.random(np.shape(mean)[:-1])
    return 1.0 + (u[..., None] > cumulative).sum(axis=-1)


def _log_likelihood(y, mean, aux, trials):
    codes = np.broadcast_to(np.asarray(y, dtype=np.int64) - 1, np.shape(mean)[:-1])
    return np.take_along_axis(mean, codes[..., None], axis=-1)[..., 0]


# Codes 1..n; the response is read into them (stanmer.formula.response) before this check.
CATEGORY_CODE = Support(lambda y: np.isfinite(y) & (y >= 1) & (np.mod(y, 1) == 0), "category codes 1, 2, ...")


CUMULATIVE = FamilyDefinition(
    "cumulative",
    {
        "logit": Likelihood("ordered_logistic", "{eta}, Intercept_c"),
        "probit": Likelihood("ordered_probit", "{eta}, Intercept_c"),
    },
    CATEGORY_CODE,
    "array[N] int<lower=1, upper=n_categories> Y;",
    _draw,
    _log_likelihood,
    discrete=True,
    expected=lambda mean, aux: np.exp(mean),
    location=category_log_probabilities,
    ordinal=True,
)
