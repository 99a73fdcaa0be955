"""The contract between the pipeline and every engine.

An engine sees only a Stan program (text), its data (a dict of numbers and
numpy arrays) and sampling options. It returns `Draws`: plain numpy arrays
keyed by Stan variable name. It never sees a formula, and the results layer
never sees an engine.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

import numpy as np

# Names of the per-draw sampler diagnostics, as ArviZ's `sample_stats` group
# spells them; every engine maps its own columns onto these.
SAMPLE_STAT_NAMES = (
    "lp",
    "acceptance_rate",
    "step_size",
    "tree_depth",
    "n_steps",
    "diverging",
    "energy",
)

# The same diagnostics as CmdStan's CSV columns name them (stanli, pystan and
# cmdstanpy all use these), in SAMPLE_STAT_NAMES order.
STAN_SAMPLER_COLUMNS = (
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
)
_STAT_DTYPES = {"tree_depth": np.int64, "n_steps": np.int64, "diverging": bool}


def sample_stats_from_columns(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename CmdStan's sampler columns, each (chain, draw), to SAMPLE_STAT_NAMES.

    Counts become integers and the divergence flag a bool, since engines
    hand every column back as floats.
    """
    return {
        stat: np.asarray(columns[column]).astype(_STAT_DTYPES.get(stat, np.float64))
        for stat, column in zip(SAMPLE_STAT_NAMES, STAN_SAMPLER_COLUMNS)
    }


@dataclass(frozen=True)
class SamplerOptions:
    """NUTS settings, named as cmdstanpy names them."""

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    seed: int | None = None
    adapt_delta: float = 0.8
    max_treedepth: int = 10
    thin: int = 1
    parallel_chains: int | None = None
    # Constrained-scale starting values: one dict for every chain, a list of
    # one dict per chain, or a number (uniform(-x, x) on the unconstrained
    # scale, Stan's init radius). None means Stan's default radius of 2.
    inits: Mapping[str, Any] | list[Mapping[str, Any]] | float | None = None
    show_progress: bool = True

    def __post_init__(self) -> None:
        for name in ("chains", "draws", "thin", "max_treedepth"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if int(self.warmup) < 0:
            raise ValueError(f"warmup must be 0 or more, got {self.warmup}")
        if not 0 < float(self.adapt_delta) < 1:
            raise ValueError(
                f"adapt_delta must lie strictly between 0 and 1, got {self.adapt_delta}"
            )

    def resolved_seed(self) -> int:
        """The seed to hand to Stan: the user's, or a fresh random one."""
        if self.seed is not None:
            return int(self.seed)
        return int(np.random.default_rng().integers(1, 2**31 - 1))


@dataclass
class Draws:
    """Posterior draws as an engine returns them.

    `variables` maps each Stan variable to an array shaped
    (chain, draw, *declared shape); `sample_stats` maps each name in
    SAMPLE_STAT_NAMES to an array shaped (chain, draw).
    """

    variables: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    engine: str
    engine_version: str
    seed: int
    max_treedepth: int
    compile_seconds: float = 0.0
    sample_seconds: float = 0.0
    compiled: bool = False  # True when this run had to compile the program
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return next(iter(self.sample_stats.values())).shape[0]

    @property
    def n_draws(self) -> int:
        return next(iter(self.sample_stats.values())).shape[1]


class Engine(Protocol):
    """What the pipeline needs from an engine."""

    name: str

    def available(self) -> bool:
        """True when the engine can run on this machine."""

    def sample(self, program: str, data: Mapping[str, Any], options: SamplerOptions) -> Draws:
        """Compile `program` (or reuse a cached build) and run NUTS on `data`."""


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
