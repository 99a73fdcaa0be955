"""The stanli engine: Stan run by an interpreter, so no C++ toolchain is needed.

stanli compiles a program to MIR text in milliseconds; that text is cached on
disk, keyed on the program and on stanli's runtime build, and in memory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..atomic import write_text
from ..errors import EngineError
from ..progress import EngineOutput
from ..sampling import STAN_SAMPLER_COLUMNS, Draws, SamplerOptions
from .base import CompiledProgram, Run, cache_dir, program_hash

if TYPE_CHECKING:
    import stanli

    from ..methods.options import MethodOptions


class StanliUnsupportedError(EngineError):
    """stanli's compiler or runtime cannot handle this program; another engine may."""


# stanli raises RuntimeError both for its own gaps ("stanli compile:
# unsupported function hmm_marginal") and for data that break the program
# ("stanli MIR check: N is -1, ..."): only the message tells them apart.
# These phrases mark a missing feature, never a problem with the model
# ("an op holds": "gaussian_dlm_obs takes 7 arguments and an op holds 6").
_MISSING_FEATURE = re.compile(r"unsupported|not supported|not implemented|an op holds")

_FALLBACK_HINT = (
    "Hint: stanli does not cover every Stan feature; run this program with "
    "engine='pystan' (pip install pystan) or engine='cmdstan'."
)
_DATA_HINT = "Hint: check the data against the sizes and bounds the program declares."
_SAMPLING_HINT = (
    "Hint: a chain fails when the log density cannot be evaluated where it "
    "starts or moves; check the priors, the data and any initial values."
)
_INITS_HINT = (
    "Hint: give every parameter a value of its declared size that lies "
    "inside its declared bounds."
)

# In-process copy of the MIR files already read or written, by file path.
_MIR_BY_PATH: dict[Path, str] = {}


class StanliEngine:
    """Samples with stanli's NUTS."""

    name = "stanli"

    def available(self) -> bool:
        return importlib.util.find_spec("stanli") is not None

    def compile(self, program: str, show_progress: bool = True, verbose: bool = False) -> StanliProgram:
        # stanli compiles in milliseconds and prints nothing while it does.
        import stanli

        started = time.perf_counter()
        mir, compiled = _load_or_compile(program)
        return StanliProgram(program, mir, stanli.__version__, time.perf_counter() - started, compiled)


class StanliProgram(CompiledProgram):
    """A program as stanli's MIR; each run reads its data into a fresh model."""

    def __init__(self, program: str, mir: str, version: str, compile_seconds: float, compiled: bool) -> None:
        super().__init__("stanli", version, compile_seconds, compiled)
        self.program, self.mir = program, mir

    def optimize(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any = None) -> Draws:
        """The penalised MLE (or, with jacobian=True, the posterior mode) as one draw."""
        return self._on_density(data, options, seed, inits)

    def laplace(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any = None) -> Draws:
        """Draws of the normal approximation at the jacobian=True mode."""
        return self._on_density(data, options, seed, inits)

    def _on_density(self, data: Mapping[str, Any], options: MethodOptions, seed: int, inits: Any) -> Draws:
        from .stanli_density import stanli_log_density
        from ..methods.run import run_on_density, unconstrained_start

        density = stanli_log_density(self.program, data, self.mir)
        if isinstance(inits, (int, float)):  # Stan's init radius
            return run_on_density(density, options, seed, self.engine, self.engine_version, init_radius=float(inits))
        start = unconstrained_start(density, inits)
        return run_on_density(density, options, seed, self.engine, self.engine_version, start)

    def _run_nuts(self, data: Mapping[str, Any], options: SamplerOptions, seed: int, output: EngineOutput) -> Run:
        import stanli

        model = _build_model(self.mir, data, seed)
        fit = _run_nuts(model, options, seed)
        return Run(
            variables={name: np.asarray(fit.draws(name)) for name in fit.variables},
            columns=_sampler_columns(fit),
            info={"build_id": stanli.build_id()},
            inv_metric=np.stack([np.asarray(chain) for chain in fit.inv_metric]) if fit.inv_metric else None,
        )


def mir_path(program: str) -> Path:
    """Where the compiled form of `program` is cached for this stanli build."""
    import stanli

    build = re.sub(r"[^\w.-]", "_", stanli.build_id())
    return cache_dir() / "stanli" / f"{program_hash(program)}-{build}.mir"


def _load_or_compile(program: str) -> tuple[str, bool]:
    """The program's MIR text, and whether it had to be compiled for it."""
    path = mir_path(program)
    if path in _MIR_BY_PATH:
        return _MIR_BY_PATH[path], False
    mir = _read_entry(path)
    compiled = mir is None
    if mir is None:
        mir = _compile(program)
        _store(path, mir)
    _MIR_BY_PATH[path] = mir
    return mir, compiled


# A cache entry is this header line, then the MIR: a truncated or garbled
# entry fails the check and is rebuilt instead of failing every later fit.
_HEADER = "// stanmer cache entry: sha256={digest} bytes={size}\n"
_HEADER_PATTERN = re.compile(r"// stanmer cache entry: sha256=(?P<digest>[0-9a-f]{64}) bytes=(?P<size>\d+)\n")


def _entry(mir: str) -> str:
    data = mir.encode("utf-8")
    return _HEADER.format(digest=hashlib.sha256(data).hexdigest(), size=len(data)) + mir


def _read_entry(path: Path) -> str | None:
    """The MIR cached at `path`; None when there is none, or a damaged one (deleted, with a warning)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        return _discard(path, str(error))
    header = _HEADER_PATTERN.match(text)
    if header is None:
        return _discard(path, "no stanmer header (damaged, or written by an older stanmer)")
    mir = text[header.end():]
    data = mir.encode("utf-8")
    if len(data) != int(header["size"]) or hashlib.sha256(data).hexdigest() != header["digest"]:
        return _discard(path, f"{len(data)} bytes that do not match the recorded size and hash")
    return mir


def _discard(path: Path, reason: str) -> None:
    warnings.warn(f"the cached stanli program {path} is unusable ({reason}); deleting it and compiling again", stacklevel=4)
    path.unlink(missing_ok=True)
    return None


def _compile(program: str) -> str:
    import stanli

    try:
        return stanli.stan_to_mir(program)
    except RuntimeError as error:
        # Treated as a gap in stanli rather than a bug in the program: the
        # programs come from stanmer's code generator, and stanli bundles its
        # own stanc, which can trail the one pystan or CmdStan use.
        raise StanliUnsupportedError(
            f"stanli could not compile the program:\n{error}\n{_FALLBACK_HINT}"
        ) from error


def _store(path: Path, mir: str) -> None:
    # A cache that cannot be written only costs a recompile next time.
    try:
        write_text(path, _entry(mir))
    except OSError as error:
        warnings.warn(
            f"could not cache the compiled program at {path} ({error}); "
            "set STANMER_CACHE_DIR to a writable folder to avoid recompiling",
            stacklevel=3,
        )


def _build_model(mir: str, data: Mapping[str, Any], seed: int) -> stanli.Model:
    import stanli

    try:
        return stanli.Model(mir=mir, data=dict(data), seed=seed)
    except RuntimeError as error:
        raise _classify(error, "read the data into the program", _DATA_HINT) from error


def _run_nuts(model: stanli.Model, options: SamplerOptions, seed: int) -> stanli.Fit:
    try:
        return model.sample(
            chains=options.chains,
            seed=seed,
            warmup=options.warmup,
            samples=options.draws,
            delta=options.adapt_delta,
            max_depth=options.max_treedepth,
            thin=options.thin,
            parallel_chains=options.parallel_chains,
            refresh=_refresh(options),
            **_init_arguments(model, options),
            **_warm_start_arguments(options),
        )
    except RuntimeError as error:
        raise _classify(error, "sample", _SAMPLING_HINT) from error


def _refresh(options: SamplerOptions) -> int:
    """Iterations between stanli's progress lines: a hundred per chain feed
    the display; with verbose=True they are printed, so CmdStan's 100."""
    if options.verbose:
        return 100
    if not options.show_progress:
        return 0
    return max(1, (options.warmup + options.draws) // 100)


def _init_arguments(model: stanli.Model, options: SamplerOptions) -> dict[str, Any]:
    """stanli's start arguments: it takes starts on the unconstrained scale."""
    inits = options.inits
    if inits is None:
        return {}
    if isinstance(inits, Mapping):
        return {"inits": _unconstrain(model, inits)}
    if isinstance(inits, list):
        return {"inits": np.stack([_unconstrain(model, start) for start in inits])}
    return {"init_radius": float(inits)}


def _warm_start_arguments(options: SamplerOptions) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if options.inv_metric is not None:
        arguments["inv_metric"] = np.asarray(options.inv_metric, dtype=float)
    if options.step_size is not None:
        arguments["step_size"] = float(options.step_size)
    return arguments


def _unconstrain(model: stanli.Model, start: Mapping[str, Any]) -> np.ndarray:
    try:
        return model.unconstrain(dict(start))
    except ValueError as error:
        message = f"initial values do not fit the program: {error}\n{_INITS_HINT}"
        raise EngineError(message) from error


def _classify(error: RuntimeError, action: str, hint: str) -> EngineError:
    """A stanli failure as the EngineError that says whether another engine may succeed."""
    if _MISSING_FEATURE.search(str(error)):
        return StanliUnsupportedError(
            f"stanli cannot run this program:\n{error}\n{_FALLBACK_HINT}"
        )
    return EngineError(f"stanli could not {action}:\n{error}\n{hint}")


def _sampler_columns(fit: stanli.Fit) -> dict[str, np.ndarray]:
    import stanli

    # fit.sampler_stats is (chain, draw, column) in stanli.SAMPLER_COLUMNS order.
    return {
        column: fit.sampler_stats[:, :, stanli.SAMPLER_COLUMNS.index(column)]
        for column in STAN_SAMPLER_COLUMNS
    }
