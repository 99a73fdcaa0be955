"""The Laplace approximation: a normal centred on the mode, with the inverse
of the negative Hessian of log p as covariance, on the unconstrained scale."""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np

from .density import LogDensity, MethodError
from .mode import Mode


@dataclass(frozen=True)
class NormalDraws:
    points: np.ndarray  # (draws, dimension), unconstrained
    log_p: np.ndarray  # log density (with Jacobian) at each draw
    log_q: np.ndarray  # log density of the approximation at each draw
    pareto_k: float  # PSIS shape of the importance ratios p/q


def hessian(density: LogDensity, point: np.ndarray) -> np.ndarray:
    """Central differences of the gradient (as CmdStan's laplace does),
    symmetrised; 2 * dimension gradient evaluations."""
    size = point.size
    columns = np.empty((size, size))
    for i in range(size):
        step = 1e-5 * max(1.0, abs(point[i]))
        up, down = point.copy(), point.copy()
        up[i] += step
        down[i] -= step
        columns[:, i] = (density.value_and_gradient(up)[1] - density.value_and_gradient(down)[1]) / (2 * step)
    return (columns + columns.T) / 2


def laplace_draws(density: LogDensity, mode: Mode, count: int, seed: int) -> NormalDraws:
    precision = -hessian(density, mode.point)
    try:
        factor = np.linalg.cholesky(precision)
    except np.linalg.LinAlgError:
        raise MethodError(
            "the Hessian at the mode is not negative definite, so no normal approximation "
            "exists there (a flat direction or a boundary mode).\n"
            "Hint: use method='sample', or priors that pin down every parameter."
        ) from None
    standard = np.random.default_rng(seed).standard_normal((count, mode.point.size))
    # u = mode + L^-T z has covariance (L L^T)^-1 = precision^-1.
    points = mode.point + np.linalg.solve(factor.T, standard.T).T
    log_q = (
        -0.5 * np.sum(standard**2, axis=1)
        - 0.5 * mode.point.size * np.log(2 * np.pi)
        + np.sum(np.log(np.diag(factor)))
    )
    log_p = np.array([_log_p(density, u) for u in points])
    return NormalDraws(points, log_p, log_q, pareto_k(log_p - log_q))


def _log_p(density: LogDensity, point: np.ndarray) -> float:
    try:
        return density.value_and_gradient(point)[0]
    except (RuntimeError, ValueError):  # a draw where the density cannot be evaluated
        return -np.inf


def pareto_k(log_ratios: np.ndarray) -> float:
    """Pareto-smoothed importance sampling's k-hat of p/q: below 0.7 the
    approximation is close enough for importance-weighted estimates to be reliable."""
    finite = np.where(np.isfinite(log_ratios), log_ratios, -np.inf)
    top = np.max(finite)
    if np.all(finite == top):
        # Equal ratios: q is p up to its normalising constant, so there is no
        # tail to fit (arviz would answer inf); report the best possible k.
        return 0.0
    _, k = az.psislw(finite - top)
    return float(k)
