"""Compare fits by expected out-of-sample predictive accuracy (arviz.compare)."""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from .errors import DataError, OptionError
from .results import Fit


def compare(fits: dict[str, Fit], **options: Any) -> pd.DataFrame:
    """arviz.compare over named fits (PSIS-LOO by default; `options` go to
    arviz.compare, e.g. ic="waic"). Each fit's log_likelihood group is
    computed first if it is missing."""
    if len(fits) < 2:
        raise OptionError(f"compare needs at least two fits, got {len(fits)}; pass a dict name -> Fit")
    _check_same_observations(fits)
    for fit in fits.values():
        if "log_likelihood" not in fit.idata.groups():
            fit.log_likelihood()
    return az.compare({name: fit.idata for name, fit in fits.items()}, **options)


def _check_same_observations(fits: dict[str, Fit]) -> None:
    """LOO/WAIC differences are only meaningful on the same observations."""
    (first_name, first), *others = fits.items()
    for name, fit in others:
        same = fit.design.y.shape == first.design.y.shape and np.array_equal(fit.design.y, first.design.y)
        if not same:
            raise DataError(
                f"fits {first_name!r} and {name!r} were fitted to different observations "
                f"({first.spec.n_obs} and {fit.spec.n_obs} rows); compare fits of the same rows "
                "(a model dropping rows with missing values fits fewer)"
            )
