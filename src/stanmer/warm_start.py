"""Start a fit where an earlier fit of the same structure ended.

A refit (new data, new priors, the next member of a batch) spends most of
a short model's time in warmup, learning a step size and a metric that the
earlier fit already learned. Here the earlier fit's adapted diagonal metric
and step size, and each chain's last draw, become the new run's starting
point. How short a warmup is enough depends on what changed. Measured
(4 x 1000 draws; bench/findings.md, "Warm starts"):

- The same data (new priors, more draws): 100 iterations, which adapt the
  step size only (Stan keeps a supplied metric when warmup is under 150).
  Refitting the simulated slopes model (200 groups) took 8.4 CPU-s instead
  of 27.3, with the same min bulk ESS.
- Other data (Fit.update(new_data), the next member of a batch): 300
  iterations that adapt the metric again from the earlier one. After 100,
  ten simulated batch members kept the earlier metric and lost ESS per
  CPU-second (1,295 vs 1,629 cold); after 300 they matched the cold fits
  (1,666) at 92 % of their CPU; on the IFSC batch a member with one more
  population column mixed badly after 100 (R-hat 1.14-1.22) and like a cold
  fit after 300.

The two programs must be the same text; their sizes may differ (a batch
member with more groups). The metric and the starting values are matched
parameter by parameter, in the order the parameters block declares them
(the order of Stan's unconstrained vector). A parameter whose size changed
gets the median of its old metric entries, and starts at zero when zero is
a valid value for it (standardised effects, population effects); otherwise
the starting values are left to the engine.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .engines.base import program_hash
from .errors import OptionError
from .sampling import Draws, SamplerOptions

if TYPE_CHECKING:
    from .ridges import Start

# A cold start's chains begin this many expected posterior sds apart from the data's centre:
# dispersed, as R-hat needs, yet not where the unadapted sampler must crawl.
JITTER = 2.0
# Under 150 warmup iterations Stan adapts only the step size, keeping the metric it was given.
WARMUP_SAME_DATA = 100
WARMUP_OTHER_DATA = 300

_DECLARATION = re.compile(
    r"^\s*(?P<type>real|vector|ordered|positive_ordered|simplex|matrix|cholesky_factor_corr)"
    r"(?P<bounds><[^>]*>)?(?:\[(?P<sizes>[^\]]*)\])?\s+(?P<name>\w+)\s*;"
)


@dataclass(frozen=True)
class Block:
    """One parameter's place in Stan's unconstrained vector."""

    name: str
    stan_type: str
    bounded: bool
    shape: tuple[int, ...]  # its constrained shape

    @property
    def unconstrained_size(self) -> int:
        if self.stan_type == "cholesky_factor_corr":
            m = self.shape[0]
            return m * (m - 1) // 2
        if self.stan_type == "simplex":
            return self.shape[0] - 1
        return int(np.prod(self.shape, dtype=int))

    @property
    def starts_at_zero(self) -> bool:
        """Is an all-zero value valid (and neutral) for this parameter?"""
        return self.stan_type in ("real", "vector", "matrix") and not self.bounded


def parameter_blocks(program: str, standata: Mapping[str, Any]) -> list[Block]:
    """The parameters of `program` in declaration order, sized by `standata`."""
    body = re.search(r"^parameters \{\n(?P<body>.*?)^\}", program, re.S | re.M)
    if body is None:
        return []
    blocks = []
    for line in body["body"].splitlines():
        match = _DECLARATION.match(re.sub(r"//.*", "", line))
        if match:
            sizes = [_size(expression, standata) for expression in (match["sizes"] or "").split(",") if expression.strip()]
            shape = (sizes[0], sizes[0]) if match["type"] == "cholesky_factor_corr" else tuple(sizes)
            blocks.append(Block(match["name"], match["type"], match["bounds"] is not None, shape))
    return blocks


def _size(expression: str, standata: Mapping[str, Any]) -> int:
    # Sizes in generated programs are data names with at most a constant added or taken away.
    total, sign = 0, 1
    for token in re.findall(r"\w+|[+-]", expression):
        if token in "+-":
            sign = 1 if token == "+" else -1
        else:
            total += sign * (int(token) if token.isdigit() else int(standata[token]))
    return total


@dataclass(frozen=True)
class Adaptation:
    """What one NUTS run learned in warmup and where its chains ended."""

    program_hash: str  # of the program that ran (as engines compile it)
    data_hash: str  # of its data, prior numbers left out
    warmup: int  # iterations of warmup that adapted it
    blocks: tuple[Block, ...]
    step_size: float  # the mean over chains
    inv_metric: np.ndarray | None  # diagonal, mean over chains; None when the engine does not report it
    last_draws: tuple[dict[str, np.ndarray], ...]  # per chain: each parameter's last value

    @classmethod
    def from_draws(cls, program: str, standata: Mapping[str, Any], draws: Draws, warmup: int) -> Adaptation:
        blocks = tuple(parameter_blocks(program, standata))
        chains = draws.n_chains
        # An engine may leave out a parameter of size zero (b with no population predictors).
        last = tuple(
            {
                block.name: np.asarray(draws.variables[block.name][chain, -1])
                if block.name in draws.variables else np.zeros(block.shape)
                for block in blocks
            }
            for chain in range(chains)
        )
        step_size = float(np.mean(draws.sample_stats["step_size"][:, -1]))
        metric = draws.inv_metric
        inv_metric = None if metric is None else np.asarray(metric, dtype=float).reshape(chains, -1).mean(axis=0)
        return cls(program_hash(program), data_hash(standata), warmup, blocks, step_size, inv_metric, last)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, readable back without the program or its data."""
        return {
            "program_hash": self.program_hash,
            "data_hash": self.data_hash,
            "warmup": self.warmup,
            "blocks": [[b.name, b.stan_type, b.bounded, list(b.shape)] for b in self.blocks],
            "step_size": self.step_size,
            "inv_metric": None if self.inv_metric is None else self.inv_metric.tolist(),
            "last_draws": [{name: np.asarray(value).tolist() for name, value in chain.items()} for chain in self.last_draws],
        }

    @classmethod
    def from_json(cls, saved: Mapping[str, Any]) -> Adaptation:
        metric = saved["inv_metric"]
        return cls(
            saved["program_hash"],
            saved["data_hash"],
            int(saved["warmup"]),
            tuple(Block(name, stan_type, bounded, tuple(shape)) for name, stan_type, bounded, shape in saved["blocks"]),
            float(saved["step_size"]),
            None if metric is None else np.asarray(metric, dtype=float),
            tuple({name: np.asarray(value, dtype=float) for name, value in chain.items()} for chain in saved["last_draws"]),
        )


def warm_options(
    previous: Adaptation, program: str, standata: Mapping[str, Any], options: SamplerOptions, warmup: int | None
) -> SamplerOptions:
    """`options` with the earlier run's metric, step size and last draws as the
    start; `warmup` None chooses it from whether the data changed."""
    if program_hash(program) != previous.program_hash:
        raise OptionError(
            "warm_start needs a fit of the same model structure: the earlier fit ran a different Stan program.\n"
            "Hint: warm-start only refits of the same formula and family (new data or new priors)."
        )
    blocks = parameter_blocks(program, standata)
    old = {block.name: block for block in previous.blocks}
    inits = options.inits if options.inits is not None else _starts(blocks, old, previous, options.chains)
    if warmup is None:
        warmup = WARMUP_SAME_DATA if data_hash(standata) == previous.data_hash else WARMUP_OTHER_DATA
    return replace(
        options,
        warmup=warmup,
        inits=inits,
        inv_metric=_metric(blocks, old, previous.inv_metric),
        step_size=previous.step_size,
    )


def cold_options(start: Start, program: str, standata: Mapping[str, Any], options: SamplerOptions) -> SamplerOptions:
    """`options` for a first fit that begins where the data's moments point
    (stanmer.ridges.starting_point): the expected variances as the metric NUTS
    adapts from, and each chain started JITTER expected sds from the centre,
    unless `inits` says otherwise. Warmup is unchanged."""
    blocks = parameter_blocks(program, standata)
    if any(block.name not in start.variances for block in blocks):
        return options
    inv_metric = np.concatenate(
        [np.broadcast_to(np.asarray(start.variances[block.name], dtype=float), (block.unconstrained_size,)) for block in blocks]
    )
    inits = options.inits
    if inits is None:
        rng = np.random.default_rng([options.resolved_seed(), 7])
        inits = [start.jittered(rng, JITTER) for _ in range(options.chains)]
    return replace(options, inits=inits, inv_metric=inv_metric)


def data_hash(standata: Mapping[str, Any]) -> str:
    """A hash of the Stan data but the priors' numbers (`*_prior_*`)."""
    digest = hashlib.sha256()
    for name in sorted(standata):
        if "_prior_" not in name:
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(standata[name]).tobytes())
    return digest.hexdigest()[:20]


def _metric(blocks: list[Block], old: dict[str, Block], inv_metric: np.ndarray | None) -> np.ndarray | None:
    if inv_metric is None:
        return None
    offsets, position = {}, 0
    for block in old.values():
        offsets[block.name] = (position, position + block.unconstrained_size)
        position += block.unconstrained_size
    pieces = []
    for block in blocks:
        start, end = offsets[block.name]
        entries = inv_metric[start:end]
        if end - start == block.unconstrained_size:
            pieces.append(entries)
        else:
            fill = float(np.median(entries)) if entries.size else 1.0
            pieces.append(np.full(block.unconstrained_size, fill))
    return np.concatenate(pieces) if pieces else np.zeros(0)


def _starts(blocks: list[Block], old: dict[str, Block], previous: Adaptation, chains: int) -> list[dict[str, Any]] | None:
    starts = []
    for chain in range(chains):
        values = previous.last_draws[chain % len(previous.last_draws)]
        start = {}
        for block in blocks:
            if old[block.name].shape == block.shape:
                start[block.name] = values[block.name]
            elif block.starts_at_zero:
                start[block.name] = np.zeros(block.shape)
            else:
                return None  # e.g. a correlation matrix changed size: let the engine choose starts
        starts.append(start)
    return starts
