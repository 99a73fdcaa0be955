"""Regression tests for issue 8: plausible inputs that used to give a
silently wrong model or crash after sampling."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stanmer import DataError, FormulaError
from stanmer.formula import build_design

HERDS = Path(__file__).resolve().parents[1] / "examples" / "glmm" / "herds.csv"


@pytest.fixture
def herds():
    return pd.read_csv(HERDS)


@pytest.fixture
def df():
    rng = np.random.default_rng(1)
    n = 40
    return pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "g": np.repeat(list("abcd"), n // 4)})


def test_arithmetic_inside_cbind_is_evaluated_as_in_r(herds):
    model = build_design("cbind(incidence, size - incidence) ~ period + (1 | herd)", herds, "binomial")
    assert herds.incidence.gt(0).any()
    np.testing.assert_array_equal(model.trials, herds["size"].to_numpy(float))
    np.testing.assert_array_equal(model.y, herds["incidence"].to_numpy(float))


def test_proportion_with_weights_becomes_successes_of_trials(herds):
    model = build_design("incidence/size ~ period + (1 | herd)", herds, "binomial", weights="size")
    np.testing.assert_allclose(model.y, herds["incidence"].to_numpy(float))
    np.testing.assert_array_equal(model.trials, herds["size"].to_numpy(float))
    assert model.weights is None and not model.spec.has_weights


def test_proportion_whose_successes_are_not_whole_is_refused(herds):
    with pytest.raises(DataError, match="cbind"):
        build_design("incidence/size ~ period + (1 | herd)", herds, "binomial", weights=herds["size"] + 1)


def test_proportion_without_weights_names_the_cbind_form(herds):
    with pytest.raises(FormulaError, match="cbind"):
        build_design("incidence/size ~ period + (1 | herd)", herds, "binomial")


@pytest.mark.parametrize("formula", ["y ~ 0 + (1 | g)", "y ~ -1 + (1 | g)"])
def test_no_population_effects_and_no_intercept(df, formula):
    model = build_design(formula, df)
    assert not model.spec.has_intercept
    assert model.spec.population == ()
    assert model.X.shape == (len(df), 0)


def test_bar_without_parentheses_is_a_syntax_error(df):
    with pytest.raises(FormulaError, match=r"\(1 \| g\)"):
        build_design("y ~ x + 1|g", df)


@pytest.mark.parametrize(
    "term, expected",
    [
        ("np.power(x, 2)", lambda x: x**2),
        ("{x**2}", lambda x: x**2),
        ("np.log(x + 5)", lambda x: np.log(x + 5)),
        ("I(x**2)", lambda x: x**2),
    ],
)
def test_terms_with_numeric_literals(df, term, expected):
    model = build_design(f"y ~ {term} + (1 | g)", df)
    np.testing.assert_allclose(model.X[:, 0], expected(df["x"].to_numpy()))


SMALL = dict(engine="stanli", chains=2, warmup=200, draws=200, seed=3, progress=False)


@pytest.mark.parametrize("formula", ["y ~ 0 + (1 | g)", "y ~ np.power(x, 2) + (1 | g)"])
def test_models_without_population_columns_or_with_literals_fit_and_predict(df, formula):
    import stanmer

    fit = stanmer.fit(formula, df, **SMALL)
    predicted = fit.predict(df.head(3))
    assert predicted.shape[-1] == 3 and np.isfinite(predicted.values).all()


def test_interaction_levels_holding_a_colon_stay_distinct(df):
    data = df.assign(a=["x:y", "x"] * 20, b=["z", "y:z"] * 20)
    term = build_design("y ~ 1 + (1 | a:b)", data).spec.group_terms[0]
    assert len(term.levels) == 2
    plain = build_design("y ~ 1 + (1 | g:x2)", df.assign(x2=["p", "q"] * 20)).spec.group_terms[0]
    assert "a:p" in plain.levels


def test_a_predictor_named_intercept_is_refused(df):
    with pytest.raises(FormulaError, match="rename the column"):
        build_design("y ~ Intercept + (1 | g)", df.assign(Intercept=df["x"]))


@pytest.mark.parametrize("factor", ["chain", "draw", "coef", "b", "sigma"])
def test_grouping_factors_named_like_result_names_are_refused_before_sampling(df, factor, monkeypatch):
    import stanmer
    from stanmer import engines

    class NoSampling:
        def compile(self, *args, **kwargs):
            raise AssertionError("compiled before refusing the name")

    monkeypatch.setattr(engines, "get_engine", lambda name: NoSampling())
    with pytest.raises(FormulaError, match=f"'{factor}'.*rename"):
        stanmer.fit(f"y ~ x + (1 | {factor})", df.assign(**{factor: df["g"]}), **SMALL)


def test_response_named_obs_is_refused(df):
    import stanmer

    with pytest.raises(FormulaError, match="'obs'"):
        stanmer.fit("obs ~ x + (1 | g)", df.rename(columns={"y": "obs"}), **SMALL)


def test_result_names_allow_predictors_named_like_ours(df):
    import stanmer

    data = df.assign(sigma=df["x"] * 2 + 1, b=np.arange(len(df)) % 3)
    fit = stanmer.fit("y ~ sigma + b + (1 | g)", data, **SMALL)
    assert list(fit.fixef().index) == ["Intercept", "sigma", "b"]


@pytest.mark.parametrize(
    "response, one",
    [
        (lambda up: np.where(up, "yes", "no"), "yes"),
        (lambda up: pd.Categorical(np.where(up, "yes", "no"), categories=["yes", "no"]), "no"),
        (lambda up: pd.Series(np.where(up, "b", "a"), dtype="category"), "b"),
    ],
)
def test_two_level_bernoulli_response_codes_the_second_level_as_one(df, response, one):
    up = df["y"].to_numpy() > 0
    data = df.assign(outcome=response(up))
    with pytest.warns(UserWarning, match=f"'{one}' is coded 1"):
        model = build_design("outcome ~ x + (1 | g)", data, "bernoulli")
    np.testing.assert_array_equal(model.y, (data["outcome"] == one).to_numpy(float))


def test_three_level_bernoulli_response_names_the_real_problem(df):
    data = df.assign(outcome=np.resize(["a", "b", "c"], len(df)))
    with pytest.raises(DataError, match="two levels.*3"):
        build_design("outcome ~ x + (1 | g)", data, "bernoulli")


def test_aliased_population_columns_are_dropped_with_a_warning(df):
    data = df.assign(x2=2 * df["x"] - 1, const=3.0, z=np.arange(len(df)) % 5)
    with pytest.warns(UserWarning, match="rank deficient so dropping 2 column.*x2, const"):
        model = build_design("y ~ x + x2 + const + z + (1 | g)", data)
    assert model.spec.population == ("x", "z")
    assert model.X.shape == (len(df), 2)
    assert [p.coef for p in model.spec.priors if p.cls == "b"] == ["x", "z"]


def test_prediction_drops_the_aliased_column_too(df):
    import stanmer

    data = df.assign(x2=2 * df["x"])
    with pytest.warns(UserWarning, match="rank deficient"):
        fit = stanmer.fit("y ~ x + x2 + (1 | g)", data, **SMALL)
    assert list(fit.fixef().index) == ["Intercept", "x"]
    new = data.head(4).assign(x2=[100.0, -100.0, 5.0, 0.0])  # the dropped column has no effect
    np.testing.assert_allclose(fit.predict(new, kind="linpred").values, fit.predict(data.head(4), kind="linpred").values)


@pytest.mark.parametrize("column, written", [("gruppe_ü", "gruppe_ü"), ("my g", "`my g`")])
def test_unicode_and_backticked_grouping_columns(df, column, written):
    model = build_design(f"y ~ x + (1 | {written})", df.rename(columns={"g": column}))
    assert model.spec.factors == [column]
    assert model.spec.group_terms[0].levels == ("a", "b", "c", "d")


def test_datetime_predictor_says_how_to_convert_it(df):
    data = df.assign(day=pd.date_range("2020-01-01", periods=len(df)))
    with pytest.raises(DataError, match=r"'day' holds dates.*\.dt\.days"):
        build_design("y ~ day + (1 | g)", data)


def test_duplicated_column_names_are_named(df):
    data = pd.concat([df, df[["x"]]], axis=1)
    with pytest.raises(DataError, match="more than one column named 'x'"):
        build_design("y ~ x + (1 | g)", data)


def test_diagnostics_cover_group_effects(df):
    import dataclasses

    import stanmer

    fit = stanmer.fit("y ~ x + (1 | g)", df, engine="stanli", chains=2, warmup=300, draws=300, seed=5, progress=False)
    posterior = fit.idata.posterior.copy()
    shifted = posterior["r_g"].values.copy()
    shifted[1] += 5 * posterior["r_g"].values.std()  # the second chain disagrees on the level effects only
    posterior["r_g"] = (posterior["r_g"].dims, shifted)
    idata = fit.idata.copy()
    idata.posterior = posterior
    broken = dataclasses.replace(fit, idata=idata)
    assert broken.diagnostics.max_rhat > 1.5
    assert fit.diagnostics.max_rhat < broken.diagnostics.max_rhat
