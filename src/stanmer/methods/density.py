"""A Stan program's log density on the unconstrained scale, engine-free.

Optimisation and the Laplace approximation need four things from an engine:
the log density with its gradient, the map from unconstrained points back to
the program's variables (with generated quantities), the variable names and
the number of unconstrained coordinates. BridgeStan's `StanModel` offers all
four, and stanli hands out one for any program it runs.

Engines built on stanli fold the change-of-variables (Jacobian) terms into
the density, so the density without them -- the objective of the penalised
maximum likelihood -- is that density minus the log Jacobian of each
constrained parameter, read from the program's own declarations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from stanmer.errors import StanmerError


class MethodError(StanmerError, RuntimeError):
    """An inference method other than NUTS cannot run or did not converge."""


class StanModelLike(Protocol):
    """The part of bridgestan.StanModel the methods use (jacobian on)."""

    def log_density_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]: ...
    def param_constrain(self, theta: np.ndarray, include_tp: bool, include_gq: bool, rng: Any) -> np.ndarray: ...
    def param_unconstrain(self, theta: np.ndarray) -> np.ndarray: ...
    def param_names(self, include_tp: bool = False, include_gq: bool = False) -> list[str]: ...
    def param_unc_num(self) -> int: ...
    def new_rng(self, seed: int) -> Any: ...


@dataclass(frozen=True)
class _Block:
    """One parameter's slice of the unconstrained vector and its transform."""

    name: str
    start: int
    size: int
    log_jacobian: Callable[[np.ndarray], tuple[float, np.ndarray]]  # value and gradient


class LogDensity:
    """log p(u) on the unconstrained scale, with or without the Jacobian."""

    def __init__(self, model: StanModelLike, program: str) -> None:
        self.model = model
        self.dimension = int(model.param_unc_num())
        self._program = program
        self._blocks: list[_Block] | None = None

    def value_and_gradient(self, u: np.ndarray, jacobian: bool = True) -> tuple[float, np.ndarray]:
        value, gradient = self.model.log_density_gradient(np.ascontiguousarray(u, dtype=np.float64))
        if jacobian:
            return float(value), np.asarray(gradient, dtype=np.float64)
        correction, correction_gradient = self._log_jacobian(u)
        return float(value) - correction, np.asarray(gradient) - correction_gradient

    def constrain(self, u: np.ndarray, rng: Any) -> np.ndarray:
        """Every parameter, transformed parameter and generated quantity at u."""
        return np.asarray(self.model.param_constrain(np.ascontiguousarray(u, dtype=np.float64), include_tp=True, include_gq=True, rng=rng))

    def variable_names(self) -> list[str]:
        return list(self.model.param_names(include_tp=True, include_gq=True))

    def _log_jacobian(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        if self._blocks is None:
            self._blocks = _parameter_blocks(self._program, self.model.param_names())
            used = sum(block.size for block in self._blocks)
            if used != self.dimension:
                raise MethodError(
                    f"the parameters block declares {used} unconstrained values but the "
                    f"model has {self.dimension}; cannot drop the Jacobian.\n"
                    "Hint: use jacobian=True (the posterior mode on the unconstrained scale)."
                )
        total, gradient = 0.0, np.zeros(self.dimension)
        for block in self._blocks:
            value, part_gradient = block.log_jacobian(u[block.start : block.start + block.size])
            total += value
            gradient[block.start : block.start + block.size] = part_gradient
        return total, gradient


_DECLARATION = re.compile(
    r"^\s*(?P<type>real|vector|row_vector|matrix|cholesky_factor_corr|array\s*\[[^\]]*\]\s*real)"
    r"\s*(?:<(?P<bounds>[^>]*)>)?\s*(?:\[[^\]]*\])?\s+(?P<name>\w+)\s*;"
)


def _parameter_blocks(program: str, names: list[str]) -> list[_Block]:
    """The unconstrained layout of the parameters block, in declaration order."""
    counts: dict[str, int] = {}
    for column in names:
        base = column.split(".")[0]
        counts[base] = counts.get(base, 0) + 1
    blocks, start = [], 0
    for line in _parameters_block(program):
        match = _DECLARATION.match(line.split("//")[0])
        if match is None:
            if line.split("//")[0].strip():
                raise MethodError(
                    f"cannot read the Jacobian of the parameter declaration {line.strip()!r}.\n"
                    "Hint: use jacobian=True, or engine='cmdstan'."
                )
            continue
        name, kind = match["name"], match["type"]
        constrained = counts.get(name, 0)  # engines drop zero-size parameters
        if kind == "cholesky_factor_corr":
            order = int(round(np.sqrt(constrained)))
            size, log_jacobian = order * (order - 1) // 2, _cholesky_corr_log_jacobian(order)
        else:
            size, log_jacobian = constrained, _bounds_log_jacobian(match["bounds"], line)
        blocks.append(_Block(name, start, size, log_jacobian))
        start += size
    return blocks


def _parameters_block(program: str) -> list[str]:
    match = re.search(r"^parameters\s*\{(.*?)^\}", program, flags=re.M | re.S)
    return match.group(1).splitlines() if match else []


def _bounds_log_jacobian(bounds: str | None, line: str) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    limits = dict(_read_bound(part, line) for part in bounds.split(",")) if bounds else {}
    lower, upper = limits.get("lower"), limits.get("upper")
    if lower is None and upper is None:
        return lambda part: (0.0, np.zeros(part.size))
    if upper is None or lower is None:  # x = lower + exp(u) or upper - exp(u)
        return lambda part: (float(np.sum(part)), np.ones(part.size))
    width = upper - lower

    def log_jacobian(part: np.ndarray) -> tuple[float, np.ndarray]:
        # x = lower + width * inv_logit(u): log|dx/du| = log(width) - softplus(u) - softplus(-u)
        value = np.sum(np.log(width) - np.logaddexp(0, part) - np.logaddexp(0, -part))
        return float(value), -np.tanh(part / 2)  # = 1 - 2 inv_logit(u)

    return log_jacobian


def _read_bound(part: str, line: str) -> tuple[str, float]:
    key, _, value = part.partition("=")
    try:
        return key.strip(), float(value)
    except ValueError:
        raise MethodError(
            f"the bound {part.strip()!r} in {line.strip()!r} is not a number, so its "
            "Jacobian cannot be dropped here.\nHint: use jacobian=True, or engine='cmdstan'."
        ) from None


def _cholesky_corr_log_jacobian(order: int) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Stan's cholesky_corr_constrain: tanh onto (-1, 1), then each row scaled
    onto the unit sphere; log|J| sums both steps' terms."""

    def value(part: np.ndarray) -> float:
        z = np.tanh(part)
        total = float(np.sum(np.log1p(-(z**2))))
        k = 0
        for row in range(1, order):
            sum_squares = z[k] ** 2
            k += 1
            for _ in range(1, row):
                total += 0.5 * np.log1p(-sum_squares)
                sum_squares += z[k] ** 2 * (1 - sum_squares)
                k += 1
        return total

    return lambda part: (value(part), _numeric_gradient(value, part))


def _numeric_gradient(function: Callable[[np.ndarray], float], point: np.ndarray) -> np.ndarray:
    # The Jacobian terms are smooth and cheap; central differences are exact
    # to ~1e-10, far below the optimiser's tolerance.
    step = 1e-6 * np.maximum(1.0, np.abs(point))
    gradient = np.empty(point.size)
    for i in range(point.size):
        up, down = point.copy(), point.copy()
        up[i] += step[i]
        down[i] -= step[i]
        gradient[i] = (function(up) - function(down)) / (2 * step[i])
    return gradient
