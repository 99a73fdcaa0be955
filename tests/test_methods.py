"""Inference methods besides NUTS: options, the Jacobian, the optimiser,
the Laplace approximation, engine routing and the results of each method.

optimize and laplace run on stanli (through BridgeStan); pathfinder and
variational need CmdStan, so here only their routing, errors and the
cmdstanpy argument mapping (against a fake cmdstanpy) are checked.
"""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pytest
from conftest import simulate_groups
from scipy import optimize as scipy_optimize

import stanmer
from stanmer.codegen import executable_text
from stanmer.engines import CmdStanEngine
from stanmer.engines import methods as routing
from stanmer.engines.cmdstan_methods import SIG_FIGS, run_cmdstan_method
from stanmer.engines.stanli_density import stanli_log_density
from stanmer.errors import EngineError, PredictionError
from stanmer.methods import MethodOptionError, method_options
from stanmer.methods.mode import find_mode
from stanmer.methods.run import variables_by_name

FORMULA = "y ~ x + (1 + x | g)"


@pytest.fixture(scope="module")
def slopes() -> pd.DataFrame:
    """Like lme4's sleepstudy: 18 subjects x 10 days, lme4's estimates as truth."""
    rng = np.random.default_rng(11)
    subject, days = np.repeat(np.arange(18), 10), np.tile(np.arange(10.0), 18)
    effects = rng.normal(size=(18, 2)) * [24.7, 5.9]
    y = 251.4 + effects[subject, 0] + (10.5 + effects[subject, 1]) * days + rng.normal(0, 25.6, days.size)
    return pd.DataFrame({"y": y, "x": days, "g": subject.astype(str)})


@pytest.fixture(scope="module")
def weak_groups() -> pd.DataFrame:
    """Group sds barely identified: the joint mode sits far from the posterior."""
    data, _ = simulate_groups(np.random.default_rng(11), 20, 12, (1.0, 0.5), 0.3, 1.0, (3.0, 1.5))
    return data


@pytest.fixture(scope="module")
def binomial() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    herd = np.repeat(np.arange(30), 4)
    period = np.tile(np.arange(4), 30)
    size = rng.integers(25, 100, herd.size)
    eta = -1.0 - 0.3 * period + rng.normal(0, 1.0, 30)[herd]
    cases = rng.binomial(size, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"cases": cases, "size": size, "period": period.astype(float), "herd": herd.astype(str)})


def nuts(formula, data, family="gaussian"):
    return stanmer.fit(formula, data, family, chains=2, warmup=500, draws=500, seed=3, progress=False)


def density_of(formula, data, family="gaussian"):
    program = executable_text(stanmer.stan_code(formula, data, family))
    return stanli_log_density(program, stanmer.stan_data(formula, data, family))


# --- options, checked before any work ---------------------------------------


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("mcmc", {}, "unknown method 'mcmc'"),
        ("optimize", {"algorithm": "fullrank"}, "does not take algorithm"),
        ("sample", {"jacobian": True}, "does not take jacobian"),
        ("variational", {"algorithm": "fullrnak"}, "algorithm must be one of"),
        ("pathfinder", {"num_paths": 0}, "num_paths must be"),
        ("optimize", {"jacobian": "yes"}, "jacobian must be True or False"),
        ("laplace", {"jacobian": False}, "needs jacobian=True"),
    ],
)
def test_bad_method_options_are_refused_before_any_work(method, options, message) -> None:
    with pytest.raises(MethodOptionError, match=message):
        # The data do not even fit the formula: the options fail first.
        stanmer.fit("y ~ nothing", pd.DataFrame({"y": [1.0]}), method=method, **options)


def test_pareto_k_of_an_exact_approximation_is_zero() -> None:
    from stanmer.methods.laplace import pareto_k

    assert pareto_k(np.full(100, -3.0)) == 0.0
    assert pareto_k(np.random.default_rng(1).standard_cauchy(1000)) > 0.7


def test_method_defaults() -> None:
    assert method_options("optimize")["jacobian"] is False  # the penalised MLE, as CmdStan and brms
    assert method_options("laplace")["jacobian"] is True
    assert method_options("variational")["algorithm"] == "meanfield"


# --- the log density without the Jacobian ------------------------------------

CONSTRAINED_ONLY = """
parameters {
  real<lower=0> s;
  vector<lower=1>[2] v;
  real<lower=-1, upper=3> w;
  cholesky_factor_corr[4] L;
  matrix[2, 3] m;
}
model {
}
"""


def test_dropping_the_jacobian_is_exact() -> None:
    # With an empty model block the Jacobian-on density IS the log Jacobian,
    # so without it nothing is left.
    density = stanli_log_density(CONSTRAINED_ONLY, {})
    for u in np.random.default_rng(0).normal(size=(5, density.dimension)):
        with_jacobian, _ = density.value_and_gradient(u, jacobian=True)
        value, gradient = density.value_and_gradient(u, jacobian=False)
        assert with_jacobian != 0
        assert value == pytest.approx(0, abs=1e-12)
        np.testing.assert_allclose(gradient, 0, atol=1e-8)


def test_stan_columns_become_arrays_in_declared_shape() -> None:
    density = stanli_log_density(CONSTRAINED_ONLY, {})
    u = np.random.default_rng(1).normal(size=density.dimension)
    values = density.constrain(u, density.model.new_rng(1))
    names = density.variable_names()
    variables = variables_by_name(names, values[None, :])
    assert variables["m"].shape == (1, 1, 2, 3) and variables["L"].shape == (1, 1, 4, 4)
    assert variables["m"][0, 0, 1, 2] == values[names.index("m.2.3")]
    correlation = variables["L"][0, 0] @ variables["L"][0, 0].T
    np.testing.assert_allclose(np.diag(correlation), 1)


# --- optimize ---------------------------------------------------------------


@pytest.mark.parametrize("jacobian", [False, True])
def test_optimize_matches_an_independent_optimiser(slopes, jacobian) -> None:
    density = density_of(FORMULA, slopes)
    mode = find_mode(density, jacobian, seed=1)

    def negative(u):
        try:
            value, gradient = density.value_and_gradient(u, jacobian)
        except RuntimeError:
            return np.inf, np.zeros_like(u)
        return -value, -gradient

    # scipy's BFGS from another start, restarted until it stops moving (it
    # gives up early on "precision loss" along the sd-vs-effects ridge).
    point = np.random.default_rng(9).uniform(-1, 1, density.dimension)
    for _ in range(10):
        reference = scipy_optimize.minimize(negative, point, jac=True, method="BFGS", options={"gtol": 1e-8})
        if np.allclose(reference.x, point):
            break
        point = reference.x
    assert mode.log_density == pytest.approx(-reference.fun, rel=1e-7)
    ours = density.constrain(mode.point, density.model.new_rng(1))
    theirs = density.constrain(reference.x, density.model.new_rng(1))
    names = density.variable_names()
    population = [i for i, name in enumerate(names) if name.startswith("b.") or name == "Intercept"]
    np.testing.assert_allclose(ours[population], theirs[population], rtol=1e-3)


def test_optimize_fit_is_a_point_estimate(slopes) -> None:
    fit = stanmer.fit(FORMULA, slopes, method="optimize", seed=1, progress=False)
    assert fit.method == "optimize"
    assert fit.idata.posterior.sizes == {**fit.idata.posterior.sizes, "chain": 1, "draw": 1}
    table = fit.summary()
    assert table["sd"].isna().all() and table["mean"].notna().all()
    report = str(fit)
    assert "penalised maximum likelihood" in report and "point estimate" in report
    assert "joint mode over group effects" in report
    assert fit.predict().shape == (1, 1, len(slopes))
    with pytest.raises(PredictionError, match="loo needs draws"):
        fit.loo()


def test_optimize_with_the_jacobian_is_labelled(slopes) -> None:
    fit = stanmer.fit(FORMULA, slopes, method="optimize", jacobian=True, seed=1, progress=False)
    assert "Jacobian included" in str(fit)


# --- laplace ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "data_name", "family"),
    [(FORMULA, "slopes", "gaussian"), ("cases | trials(size) ~ period + (1 | herd)", "binomial", "binomial")],
)
def test_laplace_population_effects_agree_with_nuts(formula, data_name, family, request) -> None:
    data = request.getfixturevalue(data_name)
    approximate = stanmer.fit(formula, data, family, method="laplace", draws=2000, seed=2, progress=False)
    exact = nuts(formula, data, family)
    post, draws = exact.idata.posterior["b"], approximate.idata.posterior["b"]
    gap = np.abs(draws.mean(("chain", "draw")) - post.mean(("chain", "draw"))) / post.std(("chain", "draw"))
    assert float(gap.max()) < 0.3, gap.values
    assert approximate.method == "laplace" and approximate.idata.posterior.sizes["draw"] == 2000
    assert np.isfinite(approximate.idata.attrs["pareto_k"])


def test_pareto_k_flags_a_laplace_approximation_far_from_the_posterior(weak_groups) -> None:
    # Centred on the joint mode (as CmdStan's laplace is), where the group sds
    # are several times their posterior means: the importance ratios say so.
    with pytest.warns(stanmer.ApproximationWarning, match="Pareto k of the laplace approximation"):
        fit = stanmer.fit(FORMULA, weak_groups, method="laplace", draws=1000, seed=2, progress=False)
    assert fit.idata.attrs["pareto_k"] > 0.7
    assert "Warning: Pareto k" in str(fit)


def test_laplace_results_work_like_nuts_results(slopes) -> None:
    fit = stanmer.fit(FORMULA, slopes, method="laplace", draws=400, seed=2, progress=False)
    report = str(fit)
    assert "APPROXIMATE draws" in report and "Pareto k" in report and "not of the posterior" in report
    assert fit.summary()["rhat"].isna().all()  # R-hat judges Markov chains only
    assert fit.predict(kind="response", seed=1).shape == (1, 400, len(slopes))
    assert np.isfinite(fit.loo().elpd_loo)
    assert set(fit.fixef().index) == {"Intercept", "x"}


def test_laplace_draws_saved_and_loaded(slopes, tmp_path) -> None:
    fit = stanmer.fit(FORMULA, slopes, method="laplace", draws=100, seed=2, progress=False)
    fit.save(tmp_path / "fit")
    loaded = stanmer.load(tmp_path / "fit")
    assert loaded.method == "laplace"
    assert str(loaded) == str(fit)


# --- routing ----------------------------------------------------------------


@pytest.fixture
def no_cmdstan(monkeypatch):
    monkeypatch.setattr(CmdStanEngine, "available", lambda self: False)


@pytest.mark.parametrize("method", ["pathfinder", "variational"])
def test_methods_stanli_lacks_name_what_to_install(no_cmdstan, slopes, method) -> None:
    with pytest.raises(EngineError, match="install_cmdstan"):
        stanmer.fit(FORMULA, slopes, method=method, progress=False)


def test_an_engine_without_the_method_says_which_have_it(no_cmdstan) -> None:
    with pytest.raises(EngineError, match="the stanli engine has no pathfinder; cmdstan only"):
        routing.choose_engine("stanli", "pathfinder")
    with pytest.raises(EngineError, match="the pystan engine has no optimize; stanli and cmdstan"):
        routing.choose_engine("pystan", "optimize")


def test_auto_routes_each_method(monkeypatch) -> None:
    monkeypatch.setattr(CmdStanEngine, "available", lambda self: True)
    assert routing.choose_engine("auto", "laplace")[0] == "stanli"
    assert routing.choose_engine("auto", "pathfinder") == ("cmdstan", "auto: stanli has no pathfinder; CmdStan has")
    assert routing.choose_engine("cmdstan", "optimize")[0] == "cmdstan"


def test_the_report_names_the_engine_and_why(slopes) -> None:
    fit = stanmer.fit(FORMULA, slopes, method="optimize", seed=1, progress=False)
    assert "engine: stanli, auto: stanli runs optimize without compiling" in str(fit)


# --- cmdstan: the argument mapping, against a fake cmdstanpy ----------------


class FakeApproximation:
    """What cmdstanpy returns; draws=None is an optimum (no draw axis)."""

    def __init__(self, draws: int | None) -> None:
        self.draws = draws
        self.optimized_params_dict = {"lp__": -10.0}
        log_p = np.linspace(-12, -10, draws or 1)
        log_g = log_p + np.random.default_rng(0).normal(0, 0.1, log_p.size)
        self.variational_sample_pd = pd.DataFrame({"log_p__": log_p, "log_g__": log_g})

    def stan_variables(self, **_: Any) -> dict[str, np.ndarray]:
        if self.draws is None:
            return {"mu": 1.5, "v": np.ones(2)}
        return {"mu": np.arange(self.draws, dtype=float), "v": np.ones((self.draws, 2))}

    def method_variables(self) -> dict[str, np.ndarray]:
        log_p = self.variational_sample_pd["log_p__"].to_numpy()
        log_g = self.variational_sample_pd["log_g__"].to_numpy()
        return {"log_p__": log_p, "log_g__": log_g, "lp__": log_p, "lp_approx__": log_g}


class FakeModel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _run(self, name: str, draws: int, arguments: dict[str, Any]) -> FakeApproximation:
        self.calls.append((name, arguments))
        return FakeApproximation(draws)

    def optimize(self, **arguments):
        return self._run("optimize", None, arguments)

    def laplace_sample(self, **arguments):
        return self._run("laplace_sample", arguments["draws"], arguments)

    def pathfinder(self, **arguments):
        return self._run("pathfinder", arguments["draws"], arguments)

    def variational(self, **arguments):
        return self._run("variational", arguments["draws"], arguments)


def test_cmdstan_optimize_arguments() -> None:
    model = FakeModel()
    draws = run_cmdstan_method(model, {"N": 1}, method_options("optimize"), seed=4)
    (name, arguments), = model.calls
    assert name == "optimize" and arguments["jacobian"] is False and arguments["sig_figs"] == SIG_FIGS == 18
    assert arguments["seed"] == 4 and arguments["data"] == {"N": 1}
    assert draws.variables["mu"].shape == (1, 1) and draws.variables["v"].shape == (1, 1, 2)  # (chain, draw, ...)
    assert draws.info == {"method": "optimize", "jacobian": False, "mode_log_density": -10.0}


def test_cmdstan_laplace_centres_on_the_jacobian_mode() -> None:
    model = FakeModel()
    draws = run_cmdstan_method(model, {}, method_options("laplace", draws=50), seed=4)
    assert [name for name, _ in model.calls] == ["optimize", "laplace_sample"]
    assert model.calls[0][1]["jacobian"] is True and model.calls[1][1]["draws"] == 50
    assert draws.variables["v"].shape == (1, 50, 2)
    assert np.isfinite(draws.info["pareto_k"])


def test_cmdstan_pathfinder_and_variational_arguments() -> None:
    model = FakeModel()
    run_cmdstan_method(model, {}, method_options("pathfinder", draws=30, num_paths=2, iter=100), seed=1)
    run_cmdstan_method(model, {}, method_options("variational", draws=30, algorithm="fullrank"), seed=1)
    (_, pathfinder), (_, variational) = model.calls
    assert pathfinder["num_paths"] == 2 and pathfinder["max_lbfgs_iters"] == 100 and pathfinder["draws"] == 30
    assert variational["algorithm"] == "fullrank" and variational["draws"] == 30
    assert variational["sig_figs"] == 18


@pytest.mark.cmdstan
@pytest.mark.parametrize("method", ["optimize", "laplace", "pathfinder", "variational"])
def test_every_method_on_cmdstan_for_real(slopes, method) -> None:
    if not CmdStanEngine().available():
        pytest.skip("CmdStan is not installed")
    fit = stanmer.fit(FORMULA, slopes, engine="cmdstan", method=method, seed=1, progress=False)
    assert fit.method == method and fit.idata.attrs["engine"] == "cmdstan"
    assert fit.summary()["mean"].notna().all()


# --- the command line and batch manifests -----------------------------------


def test_cli_fit_with_a_method(slopes, tmp_path, capsys) -> None:
    from stanmer.cli.main import main

    slopes.to_csv(tmp_path / "d.csv", index=False)
    arguments = [FORMULA, "--data", str(tmp_path / "d.csv"), "--seed", "1"]
    assert main(["fit", *arguments, "--out", str(tmp_path / "fit"), "--method", "laplace", "--draws", "100"]) == 0
    assert "Method: laplace, 100 APPROXIMATE draws" in capsys.readouterr().out
    assert stanmer.load(tmp_path / "fit").method == "laplace"
    assert main(["fit", *arguments, "--out", str(tmp_path / "bad"), "--method", "optimize", "--num-paths", "2"]) == 2
    assert "does not take num_paths" in capsys.readouterr().err


def test_manifest_method_keys(slopes, tmp_path) -> None:
    from stanmer.cli.manifest import ManifestError, load_manifest

    slopes.to_csv(tmp_path / "d.csv", index=False)
    manifest = tmp_path / "m.toml"
    model = f'[[models]]\nname = "a"\nformula = "{FORMULA}"\ndata = "d.csv"\n'
    manifest.write_text(model + 'method = "optimize"\njacobian = true\n')
    (request,) = load_manifest(manifest)
    assert request.options["method"] == "optimize" and request.options["jacobian"] is True
    manifest.write_text(model)
    (plain,) = load_manifest(manifest)
    assert "method" not in plain.options  # sample: the spec hash of older fits is unchanged
    manifest.write_text(model + 'method = "variational"\nalgorithm = "full"\n')
    with pytest.raises(ManifestError, match="algorithm must be one of"):
        load_manifest(manifest)
