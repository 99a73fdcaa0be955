"""Every family: recovery on simulated data (stanli), stanc acceptance of
every family × link, response validation."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.families import FAMILIES

from conftest import ROOT, example_module

families_data = example_module("families", "make_data")
TRUTH, simulate = families_data.TRUTH, families_data.simulate
MODELS = example_module("families", "models").MODELS

AUX_TRUTH = {
    ("gaussian", "sigma"): TRUTH["sigma"],
    ("student", "sigma"): TRUTH["sigma"],
    ("student", "nu"): TRUTH["nu"],
    ("lognormal", "sigma"): TRUTH["sigma"],
    ("negbinomial", "shape"): TRUTH["shape_nb"],
    ("gamma", "shape"): TRUTH["shape_gamma"],
    ("beta", "phi"): TRUTH["phi"],
    ("weibull", "shape"): TRUTH["shape_weibull"],
    ("zero_inflated_poisson", "zi"): TRUTH["zi"],
    ("zero_inflated_negbinomial", "zi"): TRUTH["zi"],
    ("zero_inflated_negbinomial", "shape"): TRUTH["shape_nb"],
    ("hurdle_poisson", "hu"): TRUTH["hu"],
    ("hurdle_negbinomial", "hu"): TRUTH["hu"],
    ("hurdle_negbinomial", "shape"): TRUTH["shape_nb"],
    ("hurdle_lognormal", "hu"): TRUTH["hu"],
    ("hurdle_lognormal", "sigma"): TRUTH["sigma"],
}


@pytest.fixture(scope="module")
def families_data():
    return pd.read_csv(ROOT / "examples" / "families" / "families.csv")


@pytest.fixture(scope="module")
def recovery_data():
    """Larger than the example's data, so binary responses carry enough
    information for every 95% interval to be a fair test."""
    return simulate(np.random.default_rng(11), n=1500, groups=40)


def covers(table, name, truth):
    row = table.loc[name]
    return row["q2.5"] <= truth <= row["q97.5"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_family_recovers_the_simulated_parameters(name, recovery_data):
    formula, family, link = MODELS[name]
    fit = stanmer.fit(
        formula, recovery_data, family=stanmer.family(family, link), engine="stanli",
        seed=3, warmup=500, draws=500, progress=False,
    )
    table = fit.summary()
    assert fit.idata.attrs["engine"] == "stanli"  # every family's program runs on stanli
    assert fit.diagnostics.divergences == 0
    assert covers(table, "sd_g[Intercept]", TRUTH["sd_g"] * (0.625 if link == "probit" else 1))
    if link == "probit":  # probit coefficients are logit ones / ~1.6
        assert covers(table, "b[x]", TRUTH["x"] / 1.6)
    elif fit.spec.family.definition.ordinal:  # the thresholds absorb the intercept
        assert covers(table, "b[x]", TRUTH["x"])
        for k, threshold in enumerate(TRUTH["thresholds"], 1):
            assert covers(table, f"b[Intercept[{k}]]", threshold - TRUTH["Intercept"])
    else:
        assert covers(table, "b[x]", TRUTH["x"]) and covers(table, "b[Intercept]", TRUTH["Intercept"])
    for aux in fit.spec.family.aux:
        assert covers(table, aux, AUX_TRUTH[(family, aux)]), (aux, table.loc[aux].to_dict())


def _stanc() -> Path:
    httpstan = pytest.importorskip("httpstan", reason="stanc ships inside the httpstan wheel")
    return Path(httpstan.__file__).parent / "stanc"


FAMILY_LINKS = [(name, link) for name, definition in FAMILIES.items() for link in definition.links]


@pytest.mark.parametrize("name, link", FAMILY_LINKS)
@pytest.mark.parametrize("variant", ["plain", "groups", "weights+offset", "no intercept"])
def test_stanc_accepts_every_family_and_link(name, link, variant, families_data, tmp_path):
    response = {
        "gaussian": "y_gaussian", "student": "y_student", "lognormal": "y_lognormal",
        "bernoulli": "y_bernoulli", "binomial": "y_successes | trials(trials)", "poisson": "y_poisson",
        "negbinomial": "y_negbinomial", "gamma": "y_gamma", "beta": "y_beta",
        "exponential": "y_exponential", "weibull": "y_weibull", "cumulative": "y_cumulative",
        **{name: f"y_{name}" for name in ("zero_inflated_poisson", "zero_inflated_negbinomial",
                                          "hurdle_poisson", "hurdle_negbinomial", "hurdle_lognormal")},
    }[name]
    rhs = {
        "plain": "x",
        "groups": "x + (1 + x | g)",
        "weights+offset": "x + offset(np.log(exposure)) + (1 | g)",
        "no intercept": "0 + x + (1 | g)",
    }[variant]
    weights = "exposure" if variant == "weights+offset" else None
    if variant == "no intercept" and FAMILIES[name].ordinal:
        with pytest.raises(stanmer.FormulaError, match="cannot remove the intercept"):
            stanmer.stan_code(f"{response} ~ {rhs}", families_data, stanmer.family(name, link))
        return
    program = stanmer.stan_code(f"{response} ~ {rhs}", families_data, stanmer.family(name, link), weights=weights)
    path = tmp_path / "model.stan"
    path.write_text(program)
    result = subprocess.run([str(_stanc()), str(path), "--o", str(tmp_path / "m.hpp")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + program


@pytest.fixture
def small():
    return pd.DataFrame({
        "y": [0.0, 1.0, 2.0, 3.0, 1.5, 0.2],
        "n": [3, 3, 3, 3, 3, 3],
        "x": [0.1, 0.5, -0.3, 1.2, 0.0, 0.7],
        "g": ["a", "a", "b", "b", "c", "c"],
    })


@pytest.mark.parametrize(
    "family, formula, message",
    [
        ("poisson", "y ~ x", r"non-negative integers.*row 4 \(1.5\), row 5 \(0.2\)"),
        ("bernoulli", "y ~ x", "0 or 1"),
        ("beta", "y ~ x", "strictly between 0 and 1"),
        ("gamma", "y ~ x", r"positive numbers.*row 0 \(0\)"),
        ("binomial", "y ~ x", "needs trials"),
        ("poisson", "y | trials(n) ~ x", "only the binomial family"),
    ],
)
def test_bad_responses_name_the_rows(family, formula, message, small):
    with pytest.raises(stanmer.StanmerError, match=message):
        stanmer.stan_data(formula, small, family)


def test_successes_above_trials_are_refused(small):
    small = small.assign(s=[0, 1, 2, 4, 1, 0])
    with pytest.raises(stanmer.DataError, match=r"successes exceed trials in 1 row\(s\): row 3"):
        stanmer.stan_data("s | trials(n) ~ x", small, "binomial")


def test_binomial_response_forms_agree(small):
    small = small.assign(s=[0, 1, 2, 3, 1, 0])
    small["f"] = small.n - small.s
    forms = ["cbind(s, f) ~ x", "s | trials(n) ~ x", "p(s, n) ~ x", "s | trials(3) ~ x"]
    datas = [stanmer.stan_data(form, small, "binomial") for form in forms]
    for data in datas[1:]:
        assert np.array_equal(data["Y"], datas[0]["Y"]) and np.array_equal(data["trials"], datas[0]["trials"])


def test_unknown_family_and_link_list_the_choices():
    with pytest.raises(stanmer.FormulaError, match="choose one of: gaussian"):
        stanmer.family("zeta")
    with pytest.raises(stanmer.FormulaError, match="its links are: logit, probit, cloglog"):
        stanmer.family("bernoulli", "log")


def test_offset_is_data_not_a_coefficient(families_data):
    design = stanmer.design("y_poisson ~ x + offset(np.log(exposure))", families_data, "poisson")
    assert design.spec.population == ("x",)
    data = stanmer.stan_data("y_poisson ~ x + offset(np.log(exposure))", families_data, "poisson")
    assert np.allclose(data["offsets"], np.log(families_data.exposure))


def test_weights_scale_the_likelihood(families_data):
    program = stanmer.stan_code("y_gaussian ~ x", families_data, weights="exposure")
    assert "target += weights[n] * normal_lpdf(Y[n] | eta[n], sigma);" in program
    with pytest.raises(stanmer.DataError, match="weights column 'w'"):
        stanmer.stan_data("y_gaussian ~ x", families_data, weights="w")
    with pytest.raises(stanmer.DataError, match="0 or more"):
        stanmer.stan_data("y_gaussian ~ x", families_data, weights=-families_data.exposure)


@pytest.mark.pystan
def test_stanli_and_pystan_agree_on_a_binomial_glmm():
    """stanli is young: cross-check a non-Gaussian program against compiled Stan."""
    pytest.importorskip("stan")
    herds = pd.read_csv(ROOT / "examples" / "glmm" / "herds.csv")
    formula = "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)"
    ours = stanmer.fit(formula, herds, family="binomial", engine="stanli", seed=1, progress=False).summary()
    theirs = stanmer.fit(formula, herds, family="binomial", engine="pystan", seed=2, progress=False).summary()
    monte_carlo_error = np.sqrt(ours["sd"] ** 2 / ours["ess_bulk"] + theirs["sd"] ** 2 / theirs["ess_bulk"])
    assert (np.abs(ours["mean"] - theirs["mean"]) <= 4 * monte_carlo_error).all()
