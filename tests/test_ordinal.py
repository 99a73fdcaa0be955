"""Ordinal responses (family="cumulative"): reading the response, the
program's structure, recovery of known thresholds and a group sd on stanli,
and prediction (category draws and probabilities, new groups, loo)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from test_recovery import assert_converged, inside

import stanmer
from stanmer.pipeline import executable_text as executable

LEVELS = ["never", "rarely", "often", "always"]
THRESHOLDS = (-1.2, 0.1, 1.3)
TRUTH = {"x": 0.9, "sd_g": 0.8}


def simulate(rng: np.random.Generator, n: int = 600, groups: int = 20, link: str = "logit") -> pd.DataFrame:
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n)
    eta = TRUTH["x"] * x + rng.normal(scale=TRUTH["sd_g"], size=groups)[g]
    noise = rng.logistic(size=n) if link == "logit" else rng.normal(size=n)
    codes = (eta[:, None] + noise[:, None] > np.array(THRESHOLDS)).sum(axis=1)
    y = pd.Categorical(np.array(LEVELS)[codes], categories=LEVELS, ordered=True)
    return pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})


@pytest.fixture(scope="module")
def data():
    return simulate(np.random.default_rng(4))


@pytest.fixture(scope="module")
def slopes_fit(data):
    return stanmer.fit(
        "y ~ x + (1 + x | g)", data, family="cumulative", engine="stanli", chains=2, warmup=200, draws=200,
        seed=2, progress=False,
    )


def test_levels_are_kept_in_their_order_and_codes_follow_them(data):
    design = stanmer.design("y ~ x + (1 | g)", data, "cumulative")
    assert design.spec.response_levels == tuple(LEVELS)
    np.testing.assert_array_equal(design.y, data["y"].cat.codes + 1)


def test_whole_numbers_are_categories_in_increasing_order(data):
    """Distinct values sorted, coded 1..n: 10, 20, 40, 80 read as 1..4."""
    numbers = data.assign(y=np.array([10, 20, 40, 80])[data["y"].cat.codes])
    design = stanmer.design("y ~ x + (1 | g)", numbers, "cumulative")
    assert design.spec.response_levels == ("10", "20", "40", "80")
    np.testing.assert_array_equal(design.y, data["y"].cat.codes + 1)


def test_one_program_serves_any_number_of_categories(data):
    """The number of categories is data; the thresholds' prior numbers too."""
    three = data.assign(y=data["y"].cat.codes.clip(upper=2))
    program = stanmer.stan_code("y ~ x + (1 | g)", data, "cumulative")
    assert executable(stanmer.stan_code("y ~ x + (1 | g)", three, "cumulative")) == executable(program)
    tight = [stanmer.prior("student_t(3, 0, 1)", "Intercept")]
    assert executable(stanmer.stan_code("y ~ x + (1 | g)", data, "cumulative", priors=tight)) == executable(program)


def test_default_priors_are_brms_on_each_threshold(data):
    table = stanmer.default_priors("y ~ x + (1 | g)", data, "cumulative")
    thresholds = table[table["class"] == "Intercept"]
    assert list(thresholds["coef"]) == ["1", "2", "3"]
    assert set(thresholds["prior"]) == {"student_t(3, 0, 2.5)"}


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_cumulative_recovers_thresholds_and_group_sd(link):
    df = simulate(np.random.default_rng(21), n=800, groups=80, link=link)  # few rows per group: non-centred effects mix well
    fit = stanmer.fit(
        "y ~ x + (1 | g)", df, family=stanmer.family("cumulative", link), engine="stanli", chains=4,
        warmup=500, draws=1000, seed=8, progress=False,
    )
    assert_converged(fit)
    table = fit.summary()
    truths = {"b[x]": TRUTH["x"], "sd_g[Intercept]": TRUTH["sd_g"]}
    truths |= {f"b[Intercept[{k}]]": value for k, value in enumerate(THRESHOLDS, 1)}
    for name, truth in truths.items():
        assert inside(table, name, truth), (name, table.loc[name].to_dict())


def test_mean_is_category_probabilities_named_by_level(slopes_fit, data):
    probabilities = slopes_fit.predict(data.head(5), kind="mean")
    assert probabilities.dims == ("chain", "draw", "obs", "y")
    assert list(probabilities["y"].values) == LEVELS
    np.testing.assert_allclose(probabilities.sum("y"), 1.0, rtol=1e-12)
    # the probability of a category at or below k is F(threshold_k - eta), eta the linear predictor
    eta = slopes_fit.predict(data.head(5), kind="linpred").values
    b = slopes_fit.idata.posterior["b"]
    first = b.sel(coef="Intercept[1]").values[..., None] - eta
    np.testing.assert_allclose(probabilities.isel(y=0).values, 1 / (1 + np.exp(-first)), rtol=1e-10)


def test_response_draws_are_category_codes(slopes_fit, data):
    draws = slopes_fit.predict(data, kind="response", seed=3)
    values = np.unique(draws.values)
    assert set(values) <= {1.0, 2.0, 3.0, 4.0} and len(values) == 4
    assert draws.attrs["levels"] == LEVELS
    observed = (data["y"].cat.codes + 1).to_numpy()
    # replicated category shares are near the observed ones
    for code in range(1, 5):
        assert abs((draws.values == code).mean() - (observed == code).mean()) < 0.05


def test_new_groups_predict_like_other_families(slopes_fit):
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["unseen", "unseen"]})
    sampled = slopes_fit.predict(new, kind="mean", seed=1)
    at_zero = slopes_fit.predict(new, kind="mean", new_levels="zero")
    np.testing.assert_allclose(at_zero.isel(obs=0), at_zero.isel(obs=1))
    # effects drawn for the new group spread its probabilities wider than the population's
    assert float(sampled.isel(obs=0, y=0).std()) > float(at_zero.isel(obs=0, y=0).std())
    with pytest.raises(stanmer.PredictionError, match="not seen in training"):
        slopes_fit.predict(new, new_levels="error")


def test_log_likelihood_per_observation_feeds_loo(slopes_fit, data):
    pointwise = slopes_fit.log_likelihood()
    assert pointwise.shape == (2, 200, len(data))
    probabilities = slopes_fit.predict(kind="mean")
    codes = data["y"].cat.codes.to_numpy()  # 0-based positions of the observed categories
    chosen = np.take_along_axis(probabilities.values, codes[None, None, :, None], axis=-1)[..., 0]
    np.testing.assert_allclose(pointwise.values, np.log(chosen), rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isfinite(slopes_fit.loo().elpd_loo)


def test_saved_fit_reads_back_with_its_levels(slopes_fit, tmp_path):
    slopes_fit.save(tmp_path / "fit")
    loaded = stanmer.load(tmp_path / "fit")
    assert loaded.spec.response_levels == tuple(LEVELS)
    np.testing.assert_allclose(loaded.predict(kind="mean").values, slopes_fit.predict(kind="mean").values)


def test_summary_of_probabilities_has_columns_per_category(slopes_fit, data):
    table = slopes_fit.predict_summary(data.head(4), kind="mean")
    assert list(table.index) == list(data.head(4).index)
    assert [c for c in table.columns if c.startswith("mean[")] == [f"mean[{level}]" for level in LEVELS]
    np.testing.assert_allclose(table[[f"mean[{level}]" for level in LEVELS]].sum(axis=1), 1.0, rtol=1e-10)


def test_plots_of_one_number_per_row_refuse_category_probabilities(slopes_fit, data):
    with pytest.raises(stanmer.OptionError, match="probability per category"):
        slopes_fit.plot_predictions(data.head(4), x="x")


def test_coef_gives_each_level_its_thresholds_moved_against_its_intercept(slopes_fit):
    table = slopes_fit.coef()["g"]
    level = table.index.get_level_values("level")[0]
    assert list(table.loc[level].index) == ["Intercept[1]", "Intercept[2]", "Intercept[3]", "x"]
    posterior = slopes_fit.idata.posterior
    threshold = posterior["b"].sel(coef="Intercept[2]") - posterior["r_g"].sel({"g": level, "g__coef": "Intercept"})
    assert table.loc[(level, "Intercept[2]"), "mean"] == pytest.approx(float(threshold.mean()), rel=1e-12)
    slope = posterior["b"].sel(coef="x") + posterior["r_g"].sel({"g": level, "g__coef": "x"})
    assert table.loc[(level, "x"), "mean"] == pytest.approx(float(slope.mean()), rel=1e-12)
