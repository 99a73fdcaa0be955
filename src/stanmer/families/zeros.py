"""The zero part shared by the zero-inflated and hurdle families, in numpy.

Zero-inflated: with probability zi an extra zero, else a draw of the base
distribution (which may be zero too). Hurdle: with probability hu a zero,
else a draw of the base distribution above zero.
"""

from __future__ import annotations

import numpy as np


def zero_inflated_log_likelihood(y, zi, base_log_likelihood):
    """log p(y): a zero is an extra zero or a zero of the base distribution."""
    with np.errstate(divide="ignore"):
        count = np.log1p(-zi) + base_log_likelihood
        return np.where(y == 0, np.logaddexp(np.log(zi), count), count)


def hurdle_log_likelihood(y, hu, positive_log_likelihood):
    """log p(y): log(hu) at zero, else log(1 - hu) plus the positive part's
    log density (already truncated to above zero)."""
    hu = np.broadcast_to(hu, np.shape(positive_log_likelihood))
    with np.errstate(divide="ignore"):
        return np.where(y == 0, np.log(hu), np.log1p(-hu) + positive_log_likelihood)


def with_zeros(draws, probability, rng):
    """`draws` with each replaced by a zero with `probability`."""
    return np.where(rng.random(np.shape(draws)) < probability, 0.0, draws)
