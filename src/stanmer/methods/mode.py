"""The mode of a log density on the unconstrained scale, by L-BFGS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .density import LogDensity, MethodError

# Stan's own default: a start drawn uniformly in (-2, 2) on the unconstrained scale.
INIT_RADIUS = 2.0
# |gradient| above this at the optimiser's stop is not a mode (CmdStan's
# L-BFGS stops on relative changes too, which can end short of a mode).
GRADIENT_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Mode:
    point: np.ndarray  # unconstrained
    log_density: float
    gradient_norm: float
    iterations: int
    jacobian: bool


def find_mode(
    density: LogDensity,
    jacobian: bool,
    seed: int,
    max_iterations: int = 2000,
    start: np.ndarray | None = None,
    init_radius: float = INIT_RADIUS,
) -> Mode:
    """The maximiser of log p(u) (with or without the Jacobian); MethodError
    when the optimiser stops short of a mode or the density runs off to infinity."""
    if start is None:
        start = np.random.default_rng(seed).uniform(-init_radius, init_radius, density.dimension)

    def negative(u: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = density.value_and_gradient(u, jacobian)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(u)
        return -value, -gradient

    result = optimize.minimize(
        negative,
        np.asarray(start, dtype=np.float64),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iterations, "maxcor": 10, "ftol": 1e-14, "gtol": 1e-9},
    )
    value, gradient = density.value_and_gradient(result.x, jacobian)
    gradient_norm = float(np.max(np.abs(gradient))) if gradient.size else 0.0
    if not np.isfinite(value):
        raise MethodError(
            "the optimiser ended where the log density cannot be evaluated.\n"
            "Hint: give starting values (inits=...) inside the parameters' support."
        )
    if gradient_norm > GRADIENT_TOLERANCE * max(1.0, abs(value)):
        raise MethodError(
            f"the optimiser stopped after {result.nit} iterations short of a mode "
            f"(largest |gradient| {gradient_norm:.3g}; {result.message}).\n"
            + _hint(density, result.x, max_iterations, result.nit)
        )
    return Mode(result.x, float(value), gradient_norm, int(result.nit), jacobian)


def _hint(density: LogDensity, point: np.ndarray, max_iterations: int, iterations: int) -> str:
    if iterations >= max_iterations:
        return f"Hint: raise iter (now {max_iterations})."
    if np.max(np.abs(point)) > 20:
        return (
            "Hint: a parameter ran towards the edge of its support (a group sd shrinking "
            "to zero is the usual case), so the mode lies on the boundary. Use "
            "method='laplace' or 'sample', or a prior that keeps it away from zero."
        )
    return "Hint: try another seed or starting values (inits=...)."
