"""The mode of a log density on the unconstrained scale, by L-BFGS.

The optimiser is our own short L-BFGS (two-loop recursion with a Wolfe line
search) rather than scipy's L-BFGS-B: that one calls multithreaded BLAS on
tiny matrices, which on a busy machine made each iteration ~100 times slower.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import line_search
from scipy.optimize._linesearch import LineSearchWarning  # scipy does not re-export it

from .density import LogDensity, MethodError

# Stan's own default: a start drawn uniformly in (-2, 2) on the unconstrained scale.
INIT_RADIUS = 2.0
# The optimiser stops once every |gradient| is below GRADIENT_TOLERANCE
# times max(1, |log p|); a point is reported as a mode up to ACCEPT_TOLERANCE.
GRADIENT_TOLERANCE = 1e-8
ACCEPT_TOLERANCE = 1e-3
# Also stop when an iteration gains less than this relative to |log p|:
# Stan's tol_rel_obj (1e4 times machine epsilon).
RELATIVE_OBJECTIVE_TOLERANCE = 1e4 * np.finfo(float).eps
HISTORY = 10  # curvature pairs kept (Stan keeps 5; 10 copes better with the sd-vs-effects ridge of group terms)


@dataclass(frozen=True)
class Mode:
    point: np.ndarray  # unconstrained
    log_density: float
    gradient_norm: float  # largest |gradient| at the point
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
    when the optimiser stops short of a mode."""
    if start is None:
        start = np.random.default_rng(seed).uniform(-init_radius, init_radius, density.dimension)
    cache: dict[bytes, tuple[float, np.ndarray]] = {}

    def negative(u: np.ndarray) -> tuple[float, np.ndarray]:
        key = u.tobytes()
        if key not in cache:
            try:
                value, gradient = density.value_and_gradient(u, jacobian)
            except RuntimeError:  # a step out of the density's domain: reject it, as Stan does
                value, gradient = -np.inf, np.full(u.size, np.nan)
            cache.clear()  # the line search asks for f and g at the same points in turn
            cache[key] = (-value if np.isfinite(value) else np.inf, -gradient)
        return cache[key]

    point = np.asarray(start, dtype=np.float64)
    value, gradient = negative(point)
    if not np.isfinite(value):
        raise MethodError(
            "the log density cannot be evaluated at the starting point.\n"
            "Hint: give starting values (inits=...) inside the parameters' support."
        )
    point, value, gradient, iterations = _lbfgs(negative, point, value, gradient, max_iterations)
    gradient_norm = float(np.max(np.abs(gradient))) if gradient.size else 0.0
    if gradient_norm > ACCEPT_TOLERANCE * max(1.0, abs(value)):
        raise MethodError(
            f"the optimiser stopped after {iterations} iterations short of a mode "
            f"(largest |gradient| {gradient_norm:.3g} at log density {-value:.6g}).\n"
            + _hint(point, max_iterations, iterations)
        )
    return Mode(point, float(-value), gradient_norm, iterations, jacobian)


def _lbfgs(
    f: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    value: float,
    gradient: np.ndarray,
    max_iterations: int,
) -> tuple[np.ndarray, float, np.ndarray, int]:
    """Minimise f from x; returns the last point, value, gradient and iteration count."""
    steps: list[np.ndarray] = []
    changes: list[np.ndarray] = []
    for iteration in range(1, max_iterations + 1):
        if np.max(np.abs(gradient)) <= GRADIENT_TOLERANCE * max(1.0, abs(value)):
            return x, value, gradient, iteration - 1
        direction = -_two_loop(gradient, steps, changes)
        if not direction @ gradient < 0:  # stale curvature: fall back to steepest descent
            steps, changes, direction = [], [], -gradient
        if not steps:  # no curvature yet: a first step of length at most 1
            direction = direction * min(1.0, 1.0 / np.linalg.norm(gradient))
        with warnings.catch_warnings():  # a failed search is handled below, not reported
            warnings.simplefilter("ignore", LineSearchWarning)
            alpha = line_search(
                lambda u: f(u)[0], lambda u: f(u)[1], x, direction, gradient, value, maxiter=40
            )[0]
        if alpha is None:
            if not steps:
                return x, value, gradient, iteration  # not even a steepest-descent step helps
            steps, changes = [], []  # restart with fresh memory
            continue
        new_x = x + alpha * direction
        new_value, new_gradient = f(new_x)
        step, change = new_x - x, new_gradient - gradient
        if step @ change > 1e-12 * np.linalg.norm(step) * np.linalg.norm(change):
            steps.append(step)
            changes.append(change)
            del steps[:-HISTORY], changes[:-HISTORY]
        progress = value - new_value
        x, value, gradient = new_x, new_value, new_gradient
        if 0 <= progress <= RELATIVE_OBJECTIVE_TOLERANCE * max(1.0, abs(value)):
            return x, value, gradient, iteration
    return x, value, gradient, max_iterations


def _two_loop(gradient: np.ndarray, steps: list[np.ndarray], changes: list[np.ndarray]) -> np.ndarray:
    """The inverse-Hessian approximation times the gradient."""
    q = gradient.copy()
    weights = []
    for s, y in zip(reversed(steps), reversed(changes)):
        rho = 1.0 / (y @ s)
        a = rho * (s @ q)
        q -= a * y
        weights.append((rho, a))
    if steps:
        q *= (steps[-1] @ changes[-1]) / (changes[-1] @ changes[-1])
    for (s, y), (rho, a) in zip(zip(steps, changes), reversed(weights)):
        q += s * (a - rho * (y @ q))
    return q


def _hint(point: np.ndarray, max_iterations: int, iterations: int) -> str:
    if iterations >= max_iterations:
        return f"Hint: raise iter (now {max_iterations})."
    if np.max(np.abs(point)) > 20:
        return (
            "Hint: a parameter ran towards the edge of its support (a group sd shrinking "
            "to zero is the usual case), so the mode lies on the boundary. Use "
            "method='laplace' or 'sample', or a prior that keeps it away from zero."
        )
    return "Hint: try another seed or starting values (inits=...)."
