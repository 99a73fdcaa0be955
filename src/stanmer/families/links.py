"""Link functions on the numpy side: forward (for default priors) and
inverse (for prediction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def _ndtr(eta: np.ndarray) -> np.ndarray:
    from scipy import special  # scipy loads only when a probit model predicts

    return special.ndtr(eta)


def _norm_ppf(p: np.ndarray) -> np.ndarray:
    from scipy import stats

    return stats.norm.ppf(p)


def _expit(eta: np.ndarray) -> np.ndarray:
    from scipy import special

    return special.expit(eta)


@dataclass(frozen=True)
class Link:
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]


LINKS: dict[str, Link] = {
    "identity": Link(lambda m: m, lambda eta: eta),
    "log": Link(np.log, np.exp),
    "logit": Link(lambda p: np.log(p / (1 - p)), _expit),
    "probit": Link(_norm_ppf, _ndtr),
    "cloglog": Link(lambda p: np.log(-np.log1p(-p)), lambda eta: -np.expm1(-np.exp(eta))),
    "inverse": Link(lambda m: 1.0 / m, lambda eta: 1.0 / eta),
}
