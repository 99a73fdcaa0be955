"""Censored responses (`y | cens(flag[, upper])`) and known standard errors
(`y | se(sei[, sigma = TRUE])`): reading them, refusing bad ones, and
recovering simulated parameters (stanli)."""


import numpy as np
import pandas as pd
import pytest

import stanmer

from conftest import example_module

survival_data = example_module("survival", "make_data")
TRUTH, simulate = survival_data.TRUTH, survival_data.simulate


def covers(table, name, truth):
    row = table.loc[name]
    return row["q2.5"] <= truth <= row["q97.5"]


@pytest.fixture
def small():
    return pd.DataFrame({
        "y": [0.5, 1.0, 2.0, 3.0, 1.5, 0.2],
        "upper": [1.0, 1.5, 2.5, 3.5, 2.0, 0.1],
        "flag": ["none", "left", "right", "interval", "none", "none"],
        "code": [0, -1, 1, 2, 0, 0],
        "se": [0.1, 0.2, 0.3, 0.1, 0.2, 0.3],
        "x": [0.1, 0.5, -0.3, 1.2, 0.0, 0.7],
        "g": ["a", "a", "b", "b", "c", "c"],
    })


def test_censoring_words_and_brms_codes_give_the_same_rows(small):
    words = stanmer.stan_data("y | cens(flag, upper) ~ x", small, "weibull")
    codes = stanmer.stan_data("y | cens(code, upper) ~ x", small, "weibull")
    for kind, rows in (("exact", [1, 5, 6]), ("left", [2]), ("right", [3]), ("interval", [4])):
        assert list(words[f"rows_{kind}"]) == list(codes[f"rows_{kind}"]) == rows
        assert words[f"N_{kind}"] == len(rows)
    assert words["Y_upper"][3] == 3.5 and words["Y_upper"][0] == words["Y"][0]


def test_censoring_pattern_is_data_not_structure(small):
    one = stanmer.stan_code("y | cens(flag, upper) ~ x", small, "gaussian")
    other = stanmer.stan_code("y | cens(flag, upper) ~ x", small.assign(flag="right"), "gaussian")
    assert one == other
    assert "normal_lccdf(Y[rows_right] | eta[rows_right], sigma)" in one
    assert "log_diff_exp(normal_lcdf(Y_upper[n] | eta[n], sigma), normal_lcdf(Y[n] | eta[n], sigma))" in one


@pytest.mark.parametrize(
    "formula, family, error, message",
    [
        ("y | cens(flag) ~ x", "poisson", stanmer.FormulaError, "cannot take censored responses.*weibull"),
        ("y | cens(flag) ~ x", "gaussian", stanmer.FormulaError, r"interval-censored, which needs the upper bounds"),
        ("y | cens(nope) ~ x", "gaussian", stanmer.FormulaError, "column"),
        ("y | cens(x) ~ x", "gaussian", stanmer.DataError, r"must be 'none', 'left'.*row 0 \(0.1\)"),
        ("y | se(se) ~ x", "student", stanmer.FormulaError, "se\\(\\) gives known standard errors of a gaussian"),
        ("y | se(x) ~ x", "gaussian", stanmer.DataError, r"must be positive.*row 2"),
        ("y | se(se, sigma = maybe) ~ x", "gaussian", stanmer.FormulaError, "sigma = TRUE"),
        ("y | weights(se) ~ x", "gaussian", stanmer.FormulaError, r"cens\(flag\)"),
        ("y | cens(flag, upper) + cens(flag) ~ x", "gaussian", stanmer.FormulaError, "twice"),
    ],
)
def test_bad_additions_are_refused_before_sampling(formula, family, error, message, small):
    with pytest.raises(error, match=message):
        stanmer.stan_data(formula, small.assign(x=[0.1, 0.5, -0.3, 1.2, 0.0, 0.7]), family)


def test_upper_bounds_may_be_missing_outside_interval_rows(small):
    data = stanmer.stan_data("y | cens(flag, upper) ~ x", small.assign(upper=[None, None, None, 3.5, None, None]))
    assert data["N"] == 6 and data["Y_upper"][3] == 3.5
    with pytest.raises(stanmer.DataError, match=r"upper bound above the response.*row 3"):
        stanmer.stan_data("y | cens(flag, upper) ~ x", small.assign(upper=None))


def test_interval_upper_bound_must_exceed_the_response(small):
    with pytest.raises(stanmer.DataError, match=r"upper bound above the response.*row 3"):
        stanmer.stan_data("y | cens(flag, upper) ~ x", small.assign(upper=[1.0, 1.5, 2.5, 2.0, 2.0, 0.1]), "gaussian")


def test_known_se_replaces_sigma(small):
    data = stanmer.stan_data("y | se(se) ~ x + (1 | g)", small)
    assert np.allclose(data["se"], small.se) and "sigma_prior_nu" not in data
    program = stanmer.stan_code("y | se(se) ~ x + (1 | g)", small)
    assert "real<lower=0> sigma;" not in program and "vector[N] sd_y = se;" in program
    with_sigma = stanmer.stan_code("y | se(se, sigma = TRUE) ~ x + (1 | g)", small)
    assert "vector[N] sd_y = sqrt(square(sigma) + square(se));" in with_sigma
    assert "sigma" in stanmer.default_priors("y | se(se, sigma = TRUE) ~ x", small)["class"].tolist()


def test_right_censored_weibull_recovers_the_simulated_parameters():
    data = simulate(np.random.default_rng(5), n=600, centres=25)
    assert (data.censored == "right").mean() > 0.2
    fit = stanmer.fit(
        "time | cens(censored) ~ treated + I(age - 60) + (1 | centre)", data, family="weibull",
        engine="stanli", chains=4, warmup=1000, draws=1000, seed=2, progress=False,
    )
    table = fit.summary()
    # At 2 x 400 one chain stayed in a far mode (R-hat 2.2): converge first, then compare.
    assert fit.diagnostics.divergences == 0 and table["rhat"].max() <= 1.01
    for name, truth in (("b[Intercept]", TRUTH["Intercept"]), ("b[treated]", TRUTH["treated"]),
                        ("b[I(age - 60)]", TRUTH["age"]), ("sd_centre[Intercept]", TRUTH["sd_centre"]),
                        ("shape", TRUTH["shape"])):
        assert covers(table, name, truth), (name, table.loc[name].to_dict())
    # ignoring the censoring biases the survival times down: the censored fit is above it
    naive = stanmer.fit(
        "time ~ treated + I(age - 60) + (1 | centre)", data, family="weibull",
        engine="stanli", chains=4, warmup=1000, draws=1000, seed=2, progress=False,
    ).summary()
    assert naive.loc["b[Intercept]", "q97.5"] < TRUTH["Intercept"] < table.loc["b[Intercept]", "q97.5"]


def test_left_and_interval_censored_gaussian_recovers_the_simulated_parameters():
    rng = np.random.default_rng(8)
    n = 500
    x = rng.normal(size=n)
    y = 1.0 + 0.8 * x + rng.normal(0, 0.7, n)
    limit = 0.5  # detection limit: below it only "at most 0.5" is known
    flag = np.where(y < limit, "left", "none").astype(object)
    lower = np.floor(y * 2) / 2  # every third measured row known only to half a unit
    binned = (np.arange(n) % 3 == 0) & (flag == "none")
    flag[binned] = "interval"
    data = pd.DataFrame({
        "y": np.where(flag == "left", limit, np.where(binned, lower, y)),
        "upper": lower + 0.5, "flag": flag, "x": x,
    })
    table = stanmer.fit(
        "y | cens(flag, upper) ~ x", data, engine="stanli", chains=2, warmup=300, draws=300, seed=4, progress=False,
    ).summary()
    for name, truth in (("b[Intercept]", 1.0), ("b[x]", 0.8), ("sigma", 0.7)):
        assert covers(table, name, truth), (name, table.loc[name].to_dict())


@pytest.mark.parametrize("sigma", [False, True])
def test_meta_analysis_recovers_the_overall_effect_and_heterogeneity(sigma):
    rng = np.random.default_rng(13)
    studies = 60
    se = rng.uniform(0.1, 0.4, studies)
    effect = 0.5 + rng.normal(0, 0.3, studies)
    data = pd.DataFrame({"y": effect + rng.normal(0, se), "se": se, "study": np.arange(studies)})
    formula = "y | se(se, sigma = TRUE) ~ 1 + (1 | study)" if sigma else "y | se(se) ~ 1 + (1 | study)"
    fit = stanmer.fit(formula, data, engine="stanli", chains=2, warmup=400, draws=400, seed=6, adapt_delta=0.95,
                      progress=False)
    table = fit.summary()
    assert covers(table, "b[Intercept]", 0.5)
    if sigma:  # study effects and the residual sd are not separately identified: their total is
        draws = fit.idata.posterior
        total = np.sqrt(draws["sd_study"].values[..., 0] ** 2 + draws["sigma"].values ** 2).ravel()
        assert np.quantile(total, 0.025) <= 0.3 <= np.quantile(total, 0.975)
    else:
        assert covers(table, "sd_study[Intercept]", 0.3)
    # response draws add each study's known se
    replicated = fit.predict(kind="response", seed=1).values.reshape(-1, studies)
    assert np.all(replicated.std(axis=0) > se)
