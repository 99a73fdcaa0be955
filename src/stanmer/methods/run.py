"""optimize and laplace on any engine that exposes a LogDensity: the result
comes back as `Draws` shaped like NUTS draws (one chain), so the results
layer reads it unchanged."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np

from stanmer.sampling import Draws

from .density import LogDensity, MethodError
from .laplace import laplace_draws
from .mode import INIT_RADIUS, find_mode
from .options import MethodOptions


def run_on_density(
    density: LogDensity, options: MethodOptions, seed: int, engine: str, engine_version: str,
    start: np.ndarray | None = None, init_radius: float = INIT_RADIUS,
) -> Draws:
    """`options.method` ("optimize" or "laplace") on `density`."""
    started = time.perf_counter()
    mode = find_mode(density, options["jacobian"], seed, options["iter"], start, init_radius)
    info = {
        "method": options.method,
        "jacobian": mode.jacobian,
        "mode_log_density": mode.log_density,
        "optimizer_iterations": mode.iterations,
    }
    rng = density.model.new_rng(seed)
    if options.method == "optimize":
        points = mode.point[None, :]
        stats = {"lp": np.array([[mode.log_density]])}
    else:
        normal = laplace_draws(density, mode, options.draws, seed)
        points = normal.points
        stats = {"lp": normal.log_p[None, :], "lp_approx": normal.log_q[None, :]}
        info["pareto_k"] = normal.pareto_k
    values = np.stack([density.constrain(u, rng) for u in points])
    return Draws(
        variables=variables_by_name(density.variable_names(), values),
        sample_stats=stats,
        engine=engine,
        engine_version=engine_version,
        seed=seed,
        max_treedepth=0,
        sample_seconds=time.perf_counter() - started,
        info=info,
    )


def variables_by_name(columns: list[str], values: np.ndarray) -> dict[str, np.ndarray]:
    """Flat Stan columns ("L.1.2", first index fastest) of (draw, column)
    values → {name: (1 chain, draw, *declared shape)}."""
    positions: dict[str, list[int]] = defaultdict(list)
    indices: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    for position, column in enumerate(columns):
        name, *index = column.split(".")
        positions[name].append(position)
        indices[name].append(tuple(int(i) for i in index))
    variables = {}
    for name, where in positions.items():
        shape = tuple(np.max(indices[name], axis=0)) if indices[name][0] else ()
        # Reversed shape in C order puts the first index fastest; then flip the axes back.
        block = values[:, where].reshape((values.shape[0], *shape[::-1]))
        block = block.transpose(0, *range(len(shape), 0, -1))
        variables[name] = block[None, ...]
    return variables


def unconstrained_start(density: LogDensity, inits: Any) -> np.ndarray | None:
    """A constrained-scale start (a dict, or the first of a list: an optimiser
    has one path) as the unconstrained vector."""
    if inits is None:
        return None
    start = inits[0] if isinstance(inits, list) else inits
    try:
        names = density.model.param_names()
        flat = [
            np.ravel(np.asarray(start[name], dtype=float), order="F")  # Stan's order: first index fastest
            for name in dict.fromkeys(column.split(".")[0] for column in names)
        ]
        return density.model.param_unconstrain(np.concatenate(flat))
    except (KeyError, ValueError, RuntimeError) as error:
        raise MethodError(f"initial values do not fit the program: {error}") from error
