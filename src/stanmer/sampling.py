"""What passes between the pipeline, the engines and the results: sampler
options in, draws out.

Engines and results both import this module, so neither reaches into the
other. Every sampler default lives here, and every option is checked here,
before any compile or sampling starts.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from .errors import OptionError

DEFAULT_ENGINE = "auto"

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

# Stan's seeds are unsigned 32-bit integers.
_MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class SamplerOptions:
    """NUTS settings, named as cmdstanpy names them; checked when made."""

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
    verbose: bool = False  # show the engine's own messages as they come
    # A warm start (stanmer.warm_start): the diagonal inverse metric, one entry
    # per unconstrained parameter, and the step size to begin from.
    inv_metric: np.ndarray | None = field(default=None, repr=False)
    step_size: float | None = None

    def __post_init__(self) -> None:
        for name, least in (("chains", 1), ("warmup", 0), ("draws", 1), ("thin", 1), ("max_treedepth", 1)):
            _require_count(name, getattr(self, name), least)
        if self.parallel_chains is not None:
            _require_count("parallel_chains", self.parallel_chains, 1, "or None (as many as there are cores)")
        if self.seed is not None:
            _require_count("seed", self.seed, 0, "or None (a fresh random seed)")
            if self.seed > _MAX_SEED:
                raise OptionError(f"seed must be at most {_MAX_SEED} (Stan's seeds are 32-bit), got {self.seed}")
        if self.thin > self.draws:
            raise OptionError(
                f"thin={self.thin} keeps every {self.thin}th of draws={self.draws} draws, so one draw "
                "per chain, too few for any diagnostic; lower thin or raise draws"
            )
        if not _is_real(self.adapt_delta) or not 0 < self.adapt_delta < 1:
            raise OptionError(f"adapt_delta must be a number strictly between 0 and 1, got {self.adapt_delta!r}")
        for name, keyword in (("show_progress", "show_progress (progress)"), ("verbose", "verbose")):
            if not isinstance(getattr(self, name), bool):
                raise OptionError(f"{keyword} must be True or False, got {getattr(self, name)!r}")
        _check_inits(self.inits, self.chains)
        if self.step_size is not None and not (_is_real(self.step_size) and 0 < self.step_size < np.inf):
            raise OptionError(f"step_size must be a positive number, got {self.step_size!r}")
        if self.inv_metric is not None:
            metric = np.asarray(self.inv_metric)
            if metric.ndim != 1 or not np.all(np.isfinite(metric)) or np.any(metric <= 0):
                raise OptionError("inv_metric must be one positive number per unconstrained parameter (a diagonal metric)")

    def resolved_seed(self) -> int:
        """The seed to hand to Stan: the user's, or a fresh random one."""
        if self.seed is not None:
            return int(self.seed)
        return int(np.random.default_rng().integers(1, 2**31 - 1))


# The options a model may set in stanmer.fit, the CLI and a batch manifest,
# with their defaults (inits, parallel_chains, progress and verbose are per-run only).
SAMPLER_DEFAULTS: dict[str, Any] = {
    "engine": DEFAULT_ENGINE,
    **{
        option.name: option.default
        for option in fields(SamplerOptions)
        if option.name not in ("inits", "parallel_chains", "show_progress", "verbose", "inv_metric", "step_size")
    },
}


def _require_count(name: str, value: Any, least: int, alternative: str = "") -> None:
    # bool is an int to Python, never a count to a user; 150.7 draws is a typo, not 150.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        wanted = f"a whole number of at least {least}" + (f" {alternative}" if alternative else "")
        raise OptionError(f"{name} must be {wanted}, got {value!r}")


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_inits(inits: Any, chains: int) -> None:
    hint = "give one dict for every chain, a list of one dict per chain, or an init radius (a number >= 0)"
    if inits is None or isinstance(inits, Mapping):
        return
    if isinstance(inits, list):
        if len(inits) != chains:
            raise OptionError(
                f"inits has {len(inits)} entries but there are {chains} chains.\n"
                "Hint: give one dict per chain, or one dict for all chains."
            )
        if not all(isinstance(start, Mapping) for start in inits):
            raise OptionError(f"every entry of the inits list must be a dict of parameter values; {hint}")
        return
    if not _is_real(inits) or inits < 0:
        raise OptionError(f"inits must not be {inits!r}; {hint}")


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
    # (chain, unconstrained parameter): each chain's adapted diagonal inverse
    # metric, for a later warm start; None when the engine does not report it.
    inv_metric: np.ndarray | None = None

    @property
    def n_chains(self) -> int:
        return next(iter(self.sample_stats.values())).shape[0]

    @property
    def n_draws(self) -> int:
        return next(iter(self.sample_stats.values())).shape[1]


def sample_stats_from_columns(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename CmdStan's sampler columns, each (chain, draw), to SAMPLE_STAT_NAMES.

    Counts become integers and the divergence flag a bool, since engines
    hand every column back as floats.
    """
    return {
        stat: np.asarray(columns[column]).astype(_STAT_DTYPES.get(stat, np.float64))
        for stat, column in zip(SAMPLE_STAT_NAMES, STAN_SAMPLER_COLUMNS)
    }


def by_chain(stacked: np.ndarray, chains: int, *, interleaved: bool) -> np.ndarray:
    """Draws stacked on the first axis, (chains * draws, *shape), as (chain, draw, *shape).

    Chain-major stacking (CmdStan) puts chain c's draw d at c * draws + d;
    interleaved stacking (pystan) puts it at d * chains + c. Every size is
    spelled out, never -1: a variable of size zero (an empty vector when a
    model has no population predictors) would leave -1 undetermined.
    """
    stacked = np.asarray(stacked)
    per_chain, shape = stacked.shape[0] // chains, stacked.shape[1:]
    if interleaved:
        return stacked.reshape(per_chain, chains, *shape).swapaxes(0, 1)
    return stacked.reshape(chains, per_chain, *shape)
