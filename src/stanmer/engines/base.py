"""The contract between the pipeline and every engine, and the skeleton
the engines share.

An engine sees only a Stan program (text), its data (a dict of numbers and
numpy arrays) and sampler options. `engine.compile(program)` builds the
program once; `compiled.sample(data, options)` runs NUTS and returns `Draws`,
plain numpy arrays keyed by Stan variable name. Other inference methods
(optimize, laplace, pathfinder, variational) belong on `Compiled` beside
`sample`. An engine never sees a formula, and the results layer never sees
an engine.
"""

from __future__ import annotations

import hashlib
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

import numpy as np

from ..progress import EngineOutput, Progress, engine_output
from ..sampling import Draws, SamplerOptions, sample_stats_from_columns


class Compiled(Protocol):
    """A program built by one engine, ready to run on data."""

    def sample(self, data: Mapping[str, Any], options: SamplerOptions) -> Draws:
        """Run NUTS on `data` with `options`."""


class Engine(Protocol):
    """What the pipeline needs from an engine."""

    name: str

    def available(self) -> bool:
        """True when the engine can run on this machine."""

    def compile(self, program: str, show_progress: bool = True, verbose: bool = False) -> Compiled:
        """Build `program`, or reuse a cached build of the same text; the
        compiler's messages are shown only with `verbose` or in the error."""


@dataclass
class Run:
    """What one engine's NUTS run hands back to the shared skeleton.

    `variables` are already (chain, draw, *shape); `columns` maps each of
    STAN_SAMPLER_COLUMNS to a (chain, draw) array.
    """

    variables: dict[str, np.ndarray]
    columns: Mapping[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    inv_metric: np.ndarray | None = None  # (chain, n): the adapted diagonal metric, when the engine reports it


class CompiledProgram(ABC):
    """The part of `Compiled` every engine shares: seeding, timing and the
    `Draws` it returns. An engine supplies `_run_nuts` (its option mapping
    and its sampler call) and the build facts it passes to __init__.

    Everything the engine prints while sampling goes through one
    `engine_output`: its progress lines feed one `Progress` display, the
    rest is held back for error messages (or shown with verbose=True).
    """

    def __init__(self, engine: str, engine_version: str, compile_seconds: float, compiled: bool) -> None:
        self.engine = engine
        self.engine_version = engine_version
        self.compile_seconds = compile_seconds
        self.compiled = compiled  # True when building it needed a compile, not a cached build

    def sample(self, data: Mapping[str, Any], options: SamplerOptions) -> Draws:
        seed = options.resolved_seed()
        started = time.perf_counter()
        # With verbose=True the engine's own progress lines are shown instead.
        shown = options.show_progress and not options.verbose
        progress = Progress(self.engine, options.chains, options.warmup, options.draws, shown)
        with progress, engine_output(progress, options.verbose) as output:
            run = self._run_nuts(data, options, seed, output)
            divergences = int(np.sum(np.asarray(run.columns["divergent__"]) > 0))
            progress.finish(divergences, output.rejections)
        return Draws(
            variables=run.variables,
            sample_stats=sample_stats_from_columns(run.columns),
            engine=self.engine,
            engine_version=self.engine_version,
            seed=seed,
            max_treedepth=options.max_treedepth,
            compile_seconds=self.compile_seconds,
            sample_seconds=time.perf_counter() - started,
            compiled=self.compiled,
            info=run.info,
            inv_metric=run.inv_metric,
        )

    @abstractmethod
    def _run_nuts(self, data: Mapping[str, Any], options: SamplerOptions, seed: int, output: EngineOutput) -> Run:
        """Sample with this engine's NUTS, printing its progress in one of
        the shapes `output` reads; raise EngineError on failure (with
        `output.text()` when the engine's messages explain it)."""


def program_hash(program: str) -> str:
    """The cache key of a program: a hash of its exact text."""
    return hashlib.sha256(program.encode("utf-8")).hexdigest()[:20]


def cache_dir() -> Path:
    """Where compiled programs live across processes.

    STANMER_CACHE_DIR wins; then $XDG_CACHE_HOME/stanmer; then ~/.cache/stanmer.
    """
    root = os.environ.get("STANMER_CACHE_DIR")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "stanmer"
