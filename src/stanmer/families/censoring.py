"""The log-likelihood of censored rows (cens() in the formula), from a
family's log density, log cdf and log complementary cdf."""

from __future__ import annotations

import numpy as np

from .base import FamilyDefinition


def censored_log_likelihood(
    definition: FamilyDefinition, y, upper, flags, mean: np.ndarray, aux: dict[str, np.ndarray]
) -> np.ndarray:
    """Pointwise (draws, rows): exact rows (flag 0) their log density, left-censored
    (-1) log P(Y <= y), right-censored (1) log P(Y > y), interval-censored (2)
    log P(y < Y <= upper)."""
    shape = np.shape(mean)
    y, upper = np.broadcast_to(y, shape), np.broadcast_to(upper, shape)
    flags = np.broadcast_to(flags, shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.select(
            [flags == 0, flags == -1, flags == 1],
            [
                definition.log_likelihood(y, mean, aux, None),
                definition.log_cdf(y, mean, aux),
                definition.log_ccdf(y, mean, aux),
            ],
            default=_log_diff_exp(definition.log_cdf(upper, mean, aux), definition.log_cdf(y, mean, aux)),
        )
    return values


def _log_diff_exp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) - exp(b)) for a >= b, without overflow."""
    return a + np.log(-np.expm1(b - a))
