"""Engines: stanli, pystan and cmdstan behind one contract, and get_engine.

The pystan tests are marked `pystan`: each distinct program costs about a
minute of C++ compilation the first time (httpstan caches the build).
CmdStan is not installed here, so its glue is checked against a fake
cmdstanpy, plus one real run that is skipped without CmdStan.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pytest

from stanmer.engines import (
    CmdStanEngine,
    EngineFallbackWarning,
    PystanEngine,
    StanliEngine,
    StanliUnsupportedError,
    StanliWithPystanFallback,
    get_engine,
)
from stanmer.engines.base import program_hash
from stanmer.engines.cmdstan import build_key
from stanmer.sampling import (
    SAMPLE_STAT_NAMES,
    STAN_SAMPLER_COLUMNS,
    Draws,
    SamplerOptions,
)
from stanmer.engines.pystan import httpstan_model_name, is_built
from stanmer.engines.stanli import mir_path
from stanmer.errors import EngineError, OptionError

SRC = Path(__file__).resolve().parents[1] / "src"

# `side` has two far-apart modes, so a chain stays in the one it starts in:
# that tells chains apart. `grid[i, j] = z[i] * j` checks the order of dims.
PROGRAM = """
data {
  int<lower=0> N;
  vector[N] y;
}
parameters {
  real mu;
  real<lower=0> sigma;
  vector[2] z;
  real side;
}
transformed parameters {
  matrix[2, 3] grid;
  for (i in 1:2) {
    for (j in 1:3) {
      grid[i, j] = z[i] * j;
    }
  }
}
model {
  mu ~ normal(0, 10);
  sigma ~ exponential(1);
  z ~ normal(0, 1);
  target += log_mix(0.5, normal_lpdf(side | -5, 0.5), normal_lpdf(side | 5, 0.5));
  y ~ normal(mu, sigma);
}
"""
DATA = {"N": 20, "y": np.random.default_rng(1).normal(3.0, 2.0, size=20)}

# Valid Stan that stanli 0.24's runtime lacks (hmm_marginal).
STANLI_UNSUPPORTED_PROGRAM = """
parameters {
  simplex[2] rho;
}
model {
  matrix[2, 2] Gamma = [[0.9, 0.1], [0.2, 0.8]];
  matrix[2, 3] omega = [[0.9, 0.1, 0.5], [0.2, 0.7, 0.4]];
  target += hmm_marginal(omega, Gamma, rho);
}
"""

pystan_installed = pytest.mark.skipif(
    not PystanEngine().available(), reason="pystan is not installed"
)


def quick(**overrides: Any) -> SamplerOptions:
    settings: dict[str, Any] = dict(chains=2, warmup=200, draws=100, seed=11, show_progress=False)
    return SamplerOptions(**(settings | overrides))


def start(side: float) -> dict[str, Any]:
    """A full set of initial values, with `side` in the mode it names."""
    return {"mu": 0.0, "sigma": 1.0, "z": [0.0, 0.0], "side": side}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("STANMER_CACHE_DIR", str(directory))
    return directory


def assert_shapes(draws: Draws, chains: int, n_draws: int) -> None:
    assert {name: array.shape for name, array in draws.variables.items()} == {
        "mu": (chains, n_draws),
        "sigma": (chains, n_draws),
        "z": (chains, n_draws, 2),
        "side": (chains, n_draws),
        "grid": (chains, n_draws, 2, 3),
    }
    expected_grid = draws.variables["z"][..., np.newaxis] * np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(draws.variables["grid"], expected_grid)
    assert tuple(draws.sample_stats) == SAMPLE_STAT_NAMES
    assert all(stat.shape == (chains, n_draws) for stat in draws.sample_stats.values())
    assert draws.sample_stats["diverging"].dtype == bool
    assert draws.sample_stats["tree_depth"].dtype.kind == "i"
    assert (draws.n_chains, draws.n_draws) == (chains, n_draws)


def assert_chains_stay_where_they_start(draws: Draws, sides: list[float]) -> None:
    for chain, side in enumerate(sides):
        assert np.all(np.sign(draws.variables["side"][chain]) == np.sign(side)), chain


# --- stanli -----------------------------------------------------------------


def test_stanli_draws_have_declared_shapes_and_stat_names() -> None:
    draws = StanliEngine().compile(PROGRAM).sample(DATA, quick(chains=3, draws=50))

    assert_shapes(draws, chains=3, n_draws=50)
    assert draws.engine == "stanli"
    assert draws.seed == 11
    assert np.all(draws.sample_stats["step_size"] > 0)


def test_stanli_thin_keeps_every_nth_draw() -> None:
    draws = StanliEngine().compile(PROGRAM).sample(DATA, quick(draws=50, thin=5))

    assert draws.n_draws == 10


def test_stanli_same_seed_gives_identical_draws() -> None:
    engine = StanliEngine()
    first = engine.compile(PROGRAM).sample(DATA, quick(seed=5))
    again = engine.compile(PROGRAM).sample(DATA, quick(seed=5))
    other = engine.compile(PROGRAM).sample(DATA, quick(seed=6))

    for name in first.variables:
        np.testing.assert_array_equal(first.variables[name], again.variables[name])
    assert not np.array_equal(first.variables["mu"], other.variables["mu"])


def test_stanli_compiles_once_in_process_and_across_processes(cache: Path) -> None:
    engine = StanliEngine()
    first = engine.compile(PROGRAM).sample(DATA, quick())
    second = engine.compile(PROGRAM).sample(DATA, quick())

    assert first.compiled and not second.compiled
    assert [path.name for path in (cache / "stanli").iterdir()] == [mir_path(PROGRAM).name]
    assert not compiled_in_new_process(cache)


def compiled_in_new_process(cache: Path) -> bool:
    script = (
        "import json, sys\n"
        "from stanmer.engines.base import SamplerOptions\n"
        "from stanmer.engines.stanli import StanliEngine\n"
        "program, data = sys.stdin.read().split('\\0')\n"
        "options = SamplerOptions(chains=1, warmup=20, draws=5, seed=1, show_progress=False)\n"
        "print(json.dumps(StanliEngine().compile(program).sample(json.loads(data), options).compiled))\n"
    )
    environment = os.environ | {"STANMER_CACHE_DIR": str(cache), "PYTHONPATH": str(SRC)}
    data = json.dumps({"N": DATA["N"], "y": DATA["y"].tolist()})
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=f"{PROGRAM}\0{data}",
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return json.loads(result.stdout)


def test_stanli_starts_each_chain_at_its_own_inits() -> None:
    sides = [-5.0, 5.0]
    draws = StanliEngine().compile(PROGRAM).sample(DATA, quick(inits=[start(side) for side in sides]))

    assert_chains_stay_where_they_start(draws, sides)


def test_stanli_init_outside_bounds_names_the_parameter() -> None:
    bad = start(5.0) | {"sigma": -1.0}

    with pytest.raises(EngineError, match="sigma") as raised:
        StanliEngine().compile(PROGRAM).sample(DATA, quick(inits=bad))
    assert not isinstance(raised.value, StanliUnsupportedError)


def test_inits_need_one_entry_per_chain_before_any_engine_runs() -> None:
    with pytest.raises(OptionError, match="1 entries but there are 2 chains"):
        quick(inits=[start(5.0)])


def test_stanli_init_radius_is_accepted() -> None:
    draws = StanliEngine().compile(PROGRAM).sample(DATA, quick(inits=0.5))

    assert draws.n_draws == 100


@pytest.mark.parametrize(
    ("program", "data", "message"),
    [
        ("parameters { real mu } model { }", {}, "Syntax error"),
        (STANLI_UNSUPPORTED_PROGRAM, {}, "unsupported function hmm_marginal"),
    ],
    ids=["compiler-rejects", "runtime-lacks-function"],
)
def test_stanli_gaps_raise_unsupported(program: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(StanliUnsupportedError, match=message):
        StanliEngine().compile(program).sample(data, quick())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"N": -1, "y": []}, "negative vector extent"),
        ({"N": 3, "y": [1.0]}, "mismatch in dimension"),
    ],
    ids=["below-declared-bound", "wrong-size"],
)
def test_stanli_bad_data_is_a_model_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(EngineError, match=message) as raised:
        StanliEngine().compile(PROGRAM).sample(data, quick())
    assert not isinstance(raised.value, StanliUnsupportedError)


# --- get_engine and the stanli -> pystan fallback ---------------------------


def test_get_engine_rejects_unknown_names_listing_valid_ones() -> None:
    with pytest.raises(EngineError, match="auto, stanli, pystan, cmdstan"):
        get_engine("stan")


def test_get_engine_by_name() -> None:
    assert isinstance(get_engine("stanli"), StanliEngine)


def test_get_engine_explains_how_to_install_cmdstan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CmdStanEngine, "available", lambda self: False)

    with pytest.raises(EngineError, match="install_cmdstan.*internet access"):
        get_engine("cmdstan")


def test_get_engine_explains_how_to_install_pystan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PystanEngine, "available", lambda self: False)

    with pytest.raises(EngineError, match="pip install pystan"):
        get_engine("pystan")


def test_auto_samples_with_stanli_even_where_cmdstan_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CmdStanEngine, "available", lambda self: True)

    assert isinstance(get_engine("auto"), StanliWithPystanFallback)


def test_auto_without_cmdstan_is_stanli_with_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CmdStanEngine, "available", lambda self: False)

    engine = get_engine()

    assert isinstance(engine, StanliWithPystanFallback)
    assert engine.compile(PROGRAM).sample(DATA, quick()).engine == "stanli"


def test_fallback_without_pystan_reports_both_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PystanEngine, "available", lambda self: False)
    engine = StanliWithPystanFallback(StanliEngine(), PystanEngine())

    with pytest.raises(EngineError, match="(?s)hmm_marginal.*pip install pystan"):
        engine.compile(STANLI_UNSUPPORTED_PROGRAM).sample({}, quick())


def test_fallback_leaves_model_problems_alone() -> None:
    engine = StanliWithPystanFallback(StanliEngine(), PystanEngine())

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EngineError, match="negative vector extent") as raised:
            engine.compile(PROGRAM).sample({"N": -1, "y": []}, quick())
    assert "pystan" not in str(raised.value)


# --- cmdstan: glue checked against a fake cmdstanpy -------------------------


class FakeFit:
    """Two chains of three draws, laid out as cmdstanpy lays them out."""

    chains = 2
    inv_metric = np.array([[1.0, 2.0], [3.0, 4.0]])  # (chain, unconstrained parameter)

    def stan_variables(self) -> dict[str, np.ndarray]:
        # (chains * draws, *dims), chain-major: row 3 is chain 1's first draw.
        # "b" has size zero, as in a model without population predictors.
        return {"mu": np.arange(6.0), "grid": np.arange(36.0).reshape(6, 2, 3), "b": np.zeros((6, 0))}

    def method_variables(self) -> dict[str, np.ndarray]:
        # (draw, chain): entry [d, c] = 2 * d + c.
        return {column: np.arange(6.0).reshape(3, 2) for column in STAN_SAMPLER_COLUMNS}


class FakeCmdStanModel:
    """Records its calls; "compiles" by writing the executable beside the .stan file."""

    calls: list[tuple[str, Any]] = []

    def __init__(self, stan_file: str) -> None:
        self.calls.append(("build", stan_file))
        executable = Path(stan_file).with_suffix("")
        if not executable.exists():
            executable.write_text("fake executable")

    def sample(self, **arguments: Any) -> FakeFit:
        self.calls.append(("sample", arguments))
        return FakeFit()


@pytest.fixture
def fake_cmdstanpy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    import cmdstanpy

    monkeypatch.setattr(FakeCmdStanModel, "calls", [])
    monkeypatch.setattr(cmdstanpy, "CmdStanModel", FakeCmdStanModel)
    monkeypatch.setattr(cmdstanpy, "cmdstan_path", lambda: "/opt/fake-cmdstan")
    monkeypatch.setattr(cmdstanpy, "cmdstan_version", lambda: (2, 35))
    return FakeCmdStanModel.calls


def test_cmdstan_builds_again_for_another_cmdstan_or_other_flags(
    fake_cmdstanpy: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cmdstanpy

    first = build_key()
    monkeypatch.setenv("CXXFLAGS", "-O3 -march=native")
    flagged = build_key()
    monkeypatch.setattr(cmdstanpy, "cmdstan_version", lambda: (2, 36))
    assert len({first, flagged, build_key()}) == 3


def test_cmdstanpy_log_becomes_one_warning(fake_cmdstanpy: list[tuple[str, Any]]) -> None:
    import logging

    from stanmer.engines.cmdstan import CmdStanWarning, _cmdstanpy_log_quiet

    logger = logging.getLogger("cmdstanpy")
    with pytest.warns(CmdStanWarning, match=r"rejected some proposals .*3 report\(s\); first: Exception: normal_lpdf") as caught:
        with _cmdstanpy_log_quiet():
            logger.info("CmdStan start processing")
            for _ in range(3):
                logger.warning("Non-fatal error during sampling:\nException: normal_lpdf: Scale is 0\nmore")
    assert len(caught) == 1


def test_cmdstan_glue(fake_cmdstanpy: list[tuple[str, Any]], cache: Path) -> None:
    engine = CmdStanEngine()
    options = quick(
        warmup=30, draws=3, seed=21, adapt_delta=0.9, max_treedepth=7, parallel_chains=1, inits=0.5
    )

    first = engine.compile(PROGRAM).sample(DATA, options)
    second = engine.compile(PROGRAM).sample(DATA, options)

    stan_file = cache / "cmdstan" / f"{program_hash(PROGRAM)}-{build_key()}" / "model.stan"
    assert engine.available()
    assert stan_file.read_text() == PROGRAM
    assert first.info["stan_file"] == str(stan_file)
    assert (first.compiled, second.compiled) == (True, False)
    assert fake_cmdstanpy[0] == ("build", str(stan_file))
    kind, arguments = fake_cmdstanpy[1]
    assert kind == "sample"
    assert arguments.pop("data").keys() == DATA.keys()
    assert arguments == {
        "chains": 2,
        "parallel_chains": 1,
        "seed": 21,
        "iter_warmup": 30,
        "iter_sampling": 3,
        "adapt_delta": 0.9,
        "max_treedepth": 7,
        "thin": 1,
        "inits": 0.5,
        "inv_metric": None,
        "step_size": None,
        "show_progress": False,  # stanmer's display reads the console lines instead
        "show_console": False,
        "sig_figs": 18,  # CmdStan's default 6 would round every draw
    }
    np.testing.assert_array_equal(first.variables["mu"], [[0, 1, 2], [3, 4, 5]])
    assert first.variables["grid"].shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(first.variables["grid"][1, 0], [[18, 19, 20], [21, 22, 23]])
    assert first.variables["b"].shape == (2, 3, 0)
    np.testing.assert_array_equal(first.sample_stats["lp"], [[0, 2, 4], [1, 3, 5]])
    assert first.sample_stats["diverging"].dtype == bool
    np.testing.assert_array_equal(first.inv_metric, FakeFit.inv_metric)


def test_cmdstan_starts_from_a_given_metric_and_step_size(fake_cmdstanpy: list[tuple[str, Any]], cache: Path) -> None:
    options = quick(warmup=100, draws=3, seed=1, inv_metric=np.array([0.5, 2.0]), step_size=0.3)
    CmdStanEngine().compile(PROGRAM).sample(DATA, options)
    _, arguments = fake_cmdstanpy[-1]
    np.testing.assert_array_equal(arguments["inv_metric"], [0.5, 2.0])
    assert arguments["step_size"] == 0.3


@pytest.mark.cmdstan
@pytest.mark.skipif(not CmdStanEngine().available(), reason="CmdStan is not installed")
def test_cmdstan_samples_for_real() -> None:
    draws = CmdStanEngine().compile(PROGRAM).sample(DATA, quick(chains=2, draws=50))

    assert_shapes(draws, chains=2, n_draws=50)


# --- pystan -------------------------------------------------------------------


@pytest.mark.pystan
@pystan_installed
def test_pystan_shapes_chain_order_and_build_cache() -> None:
    already_built = is_built(httpstan_model_name(PROGRAM))
    sides = [-5.0, 5.0, 5.0]
    engine = PystanEngine()

    inits = [start(side) for side in sides]

    first = engine.compile(PROGRAM).sample(DATA, quick(chains=3, draws=50, inits=inits))
    second = engine.compile(PROGRAM).sample(DATA, quick(inits=1.0))

    assert_shapes(first, chains=3, n_draws=50)
    assert_chains_stay_where_they_start(first, sides)
    assert first.compiled is not already_built
    assert not second.compiled
    assert first.engine == "pystan"


@pytest.mark.pystan
@pystan_installed
def test_pystan_runs_inside_a_running_event_loop() -> None:
    async def notebook_cell() -> Draws:
        return PystanEngine().compile(PROGRAM).sample(DATA, quick(inits=start(5.0)))

    draws = asyncio.run(notebook_cell())

    assert_chains_stay_where_they_start(draws, [5.0, 5.0])


@pytest.mark.pystan
@pystan_installed
def test_pystan_quiet_syntax_error_keeps_stanc_message() -> None:
    with pytest.raises(EngineError, match="(?s)Syntax error.*expected"):
        PystanEngine().compile("parameters { real mu } model { }").sample({}, quick())


@pytest.mark.pystan
@pystan_installed
def test_stanli_and_pystan_posteriors_agree() -> None:
    options = quick(chains=4, warmup=500, draws=1000, seed=3)
    by_stanli = StanliEngine().compile(PROGRAM).sample(DATA, options)
    by_pystan = PystanEngine().compile(PROGRAM).sample(DATA, options)

    for name in ("mu", "sigma", "z"):
        stanli_mean, stanli_error = mean_and_mcse(by_stanli.variables[name])
        pystan_mean, pystan_error = mean_and_mcse(by_pystan.variables[name])
        allowed = 4 * np.hypot(stanli_error, pystan_error)
        assert np.all(np.abs(stanli_mean - pystan_mean) < allowed), name


def mean_and_mcse(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dataset = az.convert_to_dataset({"x": draws})
    return draws.mean(axis=(0, 1)), np.asarray(az.mcse(dataset)["x"])


@pytest.mark.pystan
@pystan_installed
def test_auto_falls_back_to_pystan_for_what_stanli_lacks() -> None:
    engine = StanliWithPystanFallback(StanliEngine(), PystanEngine())

    with pytest.warns(EngineFallbackWarning, match="(?s)hmm_marginal.*pystan"):
        draws = engine.compile(STANLI_UNSUPPORTED_PROGRAM).sample({}, quick())

    assert draws.engine == "pystan"
    assert draws.variables["rho"].shape == (2, 100, 2)


def test_pystan_layout_with_a_zero_size_variable() -> None:
    # y ~ 1 + (1|a) + (1|b) has b as vector[0]: pystan hands back (0, draws * chains).
    from stanmer.engines.pystan import _by_chain

    assert _by_chain(np.zeros((0, 12)), (0,), 12, 3).shape == (3, 4, 0)
    stacked = np.arange(12.0).reshape(1, 12)  # column j: draw j // 3 of chain j % 3
    np.testing.assert_array_equal(_by_chain(stacked, (1,), 12, 3)[1, :, 0], [1.0, 4.0, 7.0, 10.0])


@pytest.mark.pystan
@pystan_installed
def test_pystan_fits_a_model_without_population_predictors() -> None:
    # b is vector[0] here; pystan's draws of it once failed to reshape.
    import pandas as pd

    import stanmer

    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"a": np.repeat(list("pqrs"), 6), "c": np.tile(list("xyz"), 8)})
    rows["y"] = rng.normal(size=len(rows))

    fitted = stanmer.fit(
        "y ~ 1 + (1 | a) + (1 | c)", rows, engine="pystan", chains=2, warmup=100, draws=50, seed=4, progress=False
    )

    assert fitted.idata.posterior.sizes["draw"] == 50
    assert list(fitted.fixef().index) == ["Intercept"]
