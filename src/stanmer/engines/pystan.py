"""The pystan engine: Stan's own C++ sampler, built and run by httpstan.

A new program compiles for about a minute; httpstan keeps the build in its
own cache, keyed on the program text and the Python interpreter.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

from ..errors import EngineError, StanmerError
from ..progress import EngineOutput, compiling, engine_output
from ..sampling import STAN_SAMPLER_COLUMNS, SamplerOptions, by_chain
from .base import CompiledProgram, Run
from .isolated import EngineCrash, run_isolated

if TYPE_CHECKING:
    import stan.fit
    import stan.model

_Result = TypeVar("_Result")

_BUILD_HINT = (
    "Hint: a 'Syntax error' or 'Semantic error' is in the Stan program; "
    "anything else usually means the data do not match its declarations."
)
_SERVER_HINT = (
    "Hint: httpstan's server failed, not the program: usually a compile that outlasted pystan's "
    "5-minute request limit on a busy machine. Run again when the machine is less loaded (stanmer "
    "deletes the unfinished build first), or use engine='stanli', which compiles nothing."
)
_SAMPLING_HINT = (
    "Hint: 'Initialization failed' means no chain found a start where the "
    "log density is finite; check the priors, the data and any initial values."
)


class PystanEngine:
    """Samples with pystan 3 (Stan's C++ NUTS through httpstan)."""

    name = "pystan"

    def available(self) -> bool:
        return importlib.util.find_spec("stan") is not None

    def compile(self, program: str, show_progress: bool = True, verbose: bool = False) -> PystanProgram:
        _discard_broken_build(httpstan_model_name(program))
        return _isolated_twice(lambda: _compile(program, show_progress, verbose), "compiling")


class PystanProgram(CompiledProgram):
    """A program built into httpstan's cache; each run builds its model
    with the run's data from that cache, in well under a second."""

    def __init__(self, program: str, version: str, compile_seconds: float, compiled: bool) -> None:
        super().__init__("pystan", version, compile_seconds, compiled)
        self.program = program

    def _run_nuts(self, data: Mapping[str, Any], options: SamplerOptions, seed: int, output: EngineOutput) -> Run:
        def run() -> Run:
            # The child's progress lines stay in the child: the display shows the start and the end.
            return self._run_in_child(data, options, seed, output)

        return _isolated_twice(run, "sampling")

    def _run_in_child(self, data: Mapping[str, Any], options: SamplerOptions, seed: int, output: EngineOutput) -> Run:
        model = _build(self.program, _plain(data), seed, options.verbose)
        fit = _run_nuts(model, options, output)
        total = np.asarray(fit["lp__"]).size  # draws of all chains
        return Run(
            variables={
                name: _by_chain(fit[name], dims, total, options.chains)
                for name, dims in zip(fit.param_names, fit.dims)
            },
            columns={column: _by_chain(fit[column], (), total, options.chains) for column in STAN_SAMPLER_COLUMNS},
            info={"httpstan_model": httpstan_model_name(self.program)},
        )


def _compile(program: str, show_progress: bool, verbose: bool) -> PystanProgram:
    """Build the program's extension module, or find it in httpstan's cache.

    pystan builds a program only together with data; it is built here
    without any, so a failure once the module exists is only that data
    missing, which each run then supplies.
    """
    import stan

    compiled = not is_built(httpstan_model_name(program))
    started = time.perf_counter()
    # pystan announces its own build when verbose.
    with compiling("pystan", show_progress and compiled and not verbose):
        try:
            _build(program, {}, seed=1, verbose=verbose, compiler=True)
        except EngineError:
            if not is_built(httpstan_model_name(program)):
                raise
    return PystanProgram(program, stan.__version__, time.perf_counter() - started, compiled)


def httpstan_model_name(program: str) -> str:
    """httpstan's name for the build of `program` ("models/<hash>")."""
    import httpstan.models

    return httpstan.models.calculate_model_name(program)


def is_built(model_name: str) -> bool:
    """True when httpstan's cache already holds a compiled extension for the model."""
    import httpstan.cache

    return model_name in httpstan.cache.list_model_names()


class EngineRetryWarning(UserWarning):
    """An engine crashed for reasons of its own and the run was tried again."""


def _isolated_twice(call: Callable[[], _Result], while_doing: str) -> _Result:
    """`call()` in an isolated child, once more if the first child crashes or stalls.

    httpstan's progress handler has failed mid-run ("IndexError: pop from
    empty list") on models that ran fine the next time.
    """
    try:
        return run_isolated(lambda: _in_own_pool(call))
    except EngineCrash as crash:
        warnings.warn(
            f"pystan crashed while {while_doing} ({crash}); trying once more, as httpstan fails now and then",
            EngineRetryWarning,
            stacklevel=5,
        )
    try:
        return run_isolated(lambda: _in_own_pool(call))
    except EngineCrash as crash:
        raise EngineError(_crash_message(f"{while_doing}, twice", crash)) from None


def _in_own_pool(call: Callable[[], _Result]) -> _Result:
    """`call()` with a Stan worker pool that belongs to this child alone.

    httpstan makes its process pool when first imported. A child forked from
    a process that had imported it (a user's `import stan`) inherits that
    pool's queue locks, shared with every other such child; the child's
    group is killed when it ends, and an idle worker dies holding the
    queue's read lock, so every later run waited on it for good.
    """
    import concurrent.futures
    import multiprocessing

    import httpstan.services_stub

    httpstan.services_stub.executor = concurrent.futures.ProcessPoolExecutor(
        mp_context=multiprocessing.get_context("fork"), initializer=httpstan.services_stub.init_worker
    )
    return call()


def _crash_message(while_doing: str, crash: EngineCrash) -> str:
    where = "\n".join(crash.details.strip().splitlines()[-6:])
    return (
        f"pystan crashed while {while_doing}: {crash}\n{where}\n"
        "This is a fault in pystan/httpstan, not a verdict on the model: run it again, "
        "or use engine='stanli' or engine='cmdstan'."
    ).replace("\n\n", "\n")


def _discard_broken_build(model_name: str) -> None:
    """Delete httpstan's build of the model when it no longer loads (a compile
    or copy cut short leaves a truncated module, which httpstan would reuse),
    or when its compiler log is missing: pystan's 5-minute request timeout
    (a slow compile on a loaded machine) leaves the module without the log,
    and httpstan then answers every later build with a server error."""
    if not is_built(model_name):
        return
    import httpstan.cache

    if not (httpstan.cache.model_directory(model_name) / COMPILER_LOG).is_file():
        warnings.warn(
            f"httpstan's cached build {model_name} has no compiler log (a compile cut short); "
            "deleting it and compiling again",
            stacklevel=4,
        )
        httpstan.cache.delete_model_directory(model_name)
        return
    try:
        # In a child: a damaged module must not be loaded into this process.
        run_isolated(lambda: _load_build(model_name))
    except (EngineCrash, StanmerError) as broken:
        import httpstan.cache

        warnings.warn(
            f"httpstan's cached build {model_name} is damaged ({broken}); deleting it and compiling again",
            stacklevel=4,
        )
        httpstan.cache.delete_model_directory(model_name)


# httpstan's file beside a finished build (httpstan.cache.dump_services_extension_module_compiler_output)
COMPILER_LOG = "stderr.log"


def _load_build(model_name: str) -> None:
    import httpstan.models

    httpstan.models.import_services_extension_module(model_name)


def _build(program: str, data: dict[str, Any], seed: int, verbose: bool, compiler: bool = False) -> stan.model.Model:
    """pystan's model of `program` with `data`; its messages (stanc's
    warnings, and with `compiler` the C++ compiler's) are held back."""
    import stan

    failure = None
    with engine_output(None, verbose, descriptors=compiler) as output:
        try:
            model = stan.build(program, data=data, random_seed=seed)
        except (ValueError, RuntimeError) as error:
            failure = error
    if failure is not None:  # raised here, once the compiler's output is in
        # pystan reads httpstan's plain-text "500 Internal Server Error" as JSON and says TAPE_ERROR
        hint = _SERVER_HINT if "TAPE_ERROR" in str(failure) else _BUILD_HINT
        raise EngineError(_failure("build the program", failure, output, hint)) from failure
    return _interrupted_if_none(model)


def _run_nuts(model: stan.model.Model, options: SamplerOptions, output: EngineOutput) -> stan.fit.Fit:
    # pystan runs every chain at once in httpstan's process pool, so
    # options.parallel_chains has nothing to set here.
    try:
        fit = model.sample(
            num_chains=options.chains,
            num_samples=options.draws,
            num_warmup=options.warmup,
            delta=options.adapt_delta,
            max_depth=options.max_treedepth,
            num_thin=options.thin,
            **_init_arguments(options),
            # httpstan takes no starting metric: a warm start on pystan is the starts and the step size.
            **({} if options.step_size is None else {"stepsize": float(options.step_size)}),
        )
    except (ValueError, RuntimeError) as error:
        message = _failure("sample", error, output, _SAMPLING_HINT)
        raise EngineError(message) from error
    return _interrupted_if_none(fit)


def _interrupted_if_none(result: _Result | None) -> _Result:
    # pystan catches KeyboardInterrupt and returns None; give the user theirs back.
    if result is None:
        raise KeyboardInterrupt
    return result


def _init_arguments(options: SamplerOptions) -> dict[str, Any]:
    """pystan's start arguments: one constrained-scale dict per chain."""
    inits = options.inits
    if inits is None:
        return {}
    if isinstance(inits, Mapping):
        return {"init": [_plain(inits)] * options.chains}
    if isinstance(inits, list):
        return {"init": [_plain(start) for start in inits]}
    # Not in pystan's signature, but httpstan passes it through to Stan.
    return {"init_radius": float(inits)}


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` as pystan can send them: arrays (numpy, pandas) as nested lists.

    `tolist` also turns numpy scalars into Python numbers.
    """
    return {
        name: value.tolist() if hasattr(value, "tolist") else value
        for name, value in values.items()
    }


def _by_chain(values: np.ndarray, dims: Sequence[int], total: int, chains: int) -> np.ndarray:
    """pystan's (*dims, draws * chains) array as (chain, draw, *dims).

    pystan interleaves the chains: column j holds draw j // chains of chain
    j % chains (stan/fit.py flattens its (draw, chain) axes in C order).
    """
    stacked = np.moveaxis(np.asarray(values).reshape(*dims, total), -1, 0)
    return by_chain(stacked, chains, interleaved=True)


def _failure(action: str, error: Exception, output: EngineOutput, hint: str) -> str:
    # The captured output holds pystan's explanation (e.g. the stanc message
    # behind a bare "Syntax error").
    details = output.text()
    parts = (f"pystan could not {action}: {error}", details, hint)
    return "\n".join(part for part in parts if part)
