"""Predictions from the posterior (results/predict.py), on real stanli fits."""

import arviz as az
import numpy as np
import pandas as pd
import pytest
from conftest import simulate_groups
from scipy import stats

import stanmer
from stanmer import PredictionError
from stanmer.compare import compare
from stanmer.results import predict as prediction
from stanmer.results.accessors import flat_draws

# The fits are kept short to keep the suite fast; their convergence warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::stanmer.SamplingWarning")
SAMPLER = dict(engine="stanli", chains=2, warmup=500, draws=500, progress=False)


@pytest.fixture(scope="module")
def slopes_data():
    """20 rows per group: the first 10 of each group train, the rest are held out."""
    rng = np.random.default_rng(20240611)
    data, _ = simulate_groups(rng, n_groups=30, per_group=20, slopes_sd=(1.5, 0.5), cor=0.3, sigma=1.0, beta=(1.0, 0.5))
    data["colour"] = rng.choice(["red", "green", "blue"], size=len(data))
    held_out = data.groupby("g").cumcount() >= 10
    return data[~held_out], data[held_out]


@pytest.fixture(scope="module")
def slopes_fit(slopes_data):
    train, _ = slopes_data
    return stanmer.fit("y ~ x + colour + (1 + x | g)", train, seed=11, **SAMPLER)


@pytest.fixture(scope="module")
def nested_fit():
    rng = np.random.default_rng(7)
    school = np.repeat(np.arange(8), 32)
    klass = np.tile(np.repeat(np.arange(4), 8), 8)
    school_effect, class_effect = rng.normal(0, 1.0, 8), rng.normal(0, 0.7, (8, 4))
    y = 2 + school_effect[school] + class_effect[school, klass] + rng.normal(0, 0.5, school.size)
    data = pd.DataFrame({"y": y, "school": school, "klass": klass})
    return stanmer.fit("y ~ 1 + (1 | school/klass)", data, seed=5, **SAMPLER)


def flat(values):
    return values.values.reshape(-1, values.sizes["obs"])


def posterior_flat(fit, name):
    return flat_draws(fit.idata.posterior[name])


def test_training_linpred_reproduces_the_fitted_linear_predictor(slopes_fit):
    design = slopes_fit.design
    b = posterior_flat(slopes_fit, "b")  # (S, K), Intercept first
    r = posterior_flat(slopes_fit, "r_g")  # (S, J, 2)
    (group,) = design.groups
    expected = b[:, :1] + b[:, 1:] @ design.X.T
    expected += np.einsum("snm,nm->sn", r[:, group.index - 1, :], group.Z)

    predicted = slopes_fit.predict(kind="linpred")

    assert predicted.dims == ("chain", "draw", "obs")
    assert list(predicted.obs.values) == list(design.data.index)
    np.testing.assert_allclose(flat(predicted), expected, rtol=1e-10, atol=1e-10)


def test_mean_is_the_inverse_link_of_linpred(slopes_fit):
    linpred = slopes_fit.predict(kind="linpred")
    mean = slopes_fit.predict(kind="mean")
    np.testing.assert_allclose(mean.values, stanmer.families.inverse_link(slopes_fit.spec.family, linpred.values))


def test_new_level_adds_the_group_sd_to_the_predictive_sd(slopes_fit):
    rows = pd.DataFrame({"x": [0.0, 0.0], "colour": ["red", "red"], "g": [3, 1000]}, index=["known", "new"])
    predicted = flat(slopes_fit.predict(rows, kind="linpred", seed=1))
    population_only = flat(slopes_fit.predict(rows, kind="linpred", re_formula="~0"))
    sd_intercept = posterior_flat(slopes_fit, "sd_g")[:, 0]

    sd_known, sd_new = predicted.std(axis=0)
    expected = np.sqrt(population_only[:, 1].var() + np.mean(sd_intercept**2))
    assert sd_new > 2 * sd_known
    assert sd_new == pytest.approx(expected, rel=0.1)
    assert sd_new == pytest.approx(np.sqrt(sd_known**2 + sd_intercept.mean() ** 2), rel=0.25)


def test_zero_new_levels_predict_at_the_population_level(slopes_fit):
    rows = pd.DataFrame({"x": [0.4, -1.0, 0.4], "colour": ["blue", "green", "red"], "g": [1001, 1002, 5]})
    zero = slopes_fit.predict(rows, new_levels="zero")
    population_only = slopes_fit.predict(rows, re_formula="~0")
    known_row = slopes_fit.predict(rows.iloc[[2]], new_levels="error")

    np.testing.assert_allclose(zero.values[..., :2], population_only.values[..., :2])
    np.testing.assert_allclose(zero.values[..., 2], known_row.values[..., 0])


def test_new_levels_error_names_the_factor_and_levels(slopes_fit):
    rows = pd.DataFrame({"x": [0.0, 0.0], "colour": ["red", "red"], "g": [1, 4242]})
    with pytest.raises(PredictionError, match=r"'g'.*4242"):
        slopes_fit.predict(rows, new_levels="error")


def test_unseen_population_level_names_column_and_level(slopes_fit):
    rows = pd.DataFrame({"x": [0.0], "colour": ["purple"], "g": [1]})
    with pytest.raises(PredictionError, match=r"'colour'.*purple"):
        slopes_fit.predict(rows)


def test_missing_columns_are_named_and_the_response_is_not_needed(slopes_fit):
    with pytest.raises(PredictionError, match="colour, g"):
        slopes_fit.predict(pd.DataFrame({"x": [0.0]}))
    assert slopes_fit.predict(pd.DataFrame({"x": [0.0], "colour": ["red"], "g": [1]})).sizes["obs"] == 1


def test_missing_values_in_newdata_are_refused(slopes_fit):
    with pytest.raises(PredictionError, match=r"x \(1 rows\)"):
        slopes_fit.predict(pd.DataFrame({"x": [np.nan], "colour": ["red"], "g": [1]}))


def test_same_new_level_gets_the_same_draws_and_seed_reproduces(slopes_fit):
    rows = pd.DataFrame({"x": [0.3, 0.3, 0.3], "colour": ["red"] * 3, "g": ["77", "77", "78"]})
    first = slopes_fit.predict(rows, seed=3).values
    np.testing.assert_array_equal(first[..., 0], first[..., 1])
    assert not np.allclose(first[..., 0], first[..., 2])

    np.testing.assert_array_equal(first, slopes_fit.predict(rows, seed=3).values)
    assert not np.allclose(first, slopes_fit.predict(rows, seed=4).values)
    responses = [slopes_fit.predict(rows, kind="response", seed=9).values for _ in range(2)]
    np.testing.assert_array_equal(*responses)


def test_draws_thins_evenly_and_chunking_changes_nothing(slopes_fit, slopes_data, monkeypatch):
    _, held_out = slopes_data
    thinned = slopes_fit.predict(held_out, kind="linpred", draws=100)
    assert thinned.sizes == {"chain": 2, "draw": 50, "obs": len(held_out)}
    assert list(thinned.obs.values) == list(held_out.index)

    monkeypatch.setattr(prediction, "CHUNK_BYTES", 8 * 100 * 10)  # a few rows per chunk
    np.testing.assert_allclose(slopes_fit.predict(held_out, kind="linpred", draws=100).values, thinned.values)


def test_response_intervals_cover_held_out_rows_at_the_nominal_rate(slopes_fit, slopes_data):
    _, held_out = slopes_data
    table = slopes_fit.predict_summary(held_out.drop(columns="y"), kind="response", prob=0.9, seed=2)

    assert list(table.columns) == ["mean", "sd", "q5", "q95"]
    assert table.index.equals(held_out.index)
    covered = (held_out["y"] >= table["q5"]) & (held_out["y"] <= table["q95"])
    assert len(held_out) == 300
    assert 0.8 <= covered.mean() <= 0.97


def test_nested_known_parent_with_new_child(nested_fit):
    rows = pd.DataFrame({"school": [2, 2], "klass": [1, 99]})
    intercept = posterior_flat(nested_fit, "b")[:, 0]
    school_two = posterior_flat(nested_fit, "r_school")[:, 2, 0]

    zero = flat(nested_fit.predict(rows, kind="linpred", new_levels="zero"))
    np.testing.assert_allclose(zero[:, 1], intercept + school_two)

    sampled = flat(nested_fit.predict(rows, kind="linpred", new_levels="sample", seed=1))
    child = sampled[:, 1] - intercept - school_two  # what the new class adds
    sd_class = posterior_flat(nested_fit, "sd_school:klass")[:, 0]
    assert np.std(child / sd_class) == pytest.approx(1.0, abs=0.1)
    with pytest.raises(PredictionError, match=r"'school:klass'.*2:99"):
        nested_fit.predict(rows, new_levels="error")


def test_re_formula_keeps_only_the_named_factors(nested_fit):
    rows = pd.DataFrame({"school": [0, 5], "klass": [1, 3]})
    intercept = posterior_flat(nested_fit, "b")[:, :1]
    schools = posterior_flat(nested_fit, "r_school")[:, [0, 5], 0]

    school_only = flat(nested_fit.predict(rows, kind="linpred", re_formula="~ (1 | school)"))
    np.testing.assert_allclose(school_only, intercept + schools)
    for nothing in ("~0", "NA", "0"):
        population_only = flat(nested_fit.predict(rows, kind="linpred", re_formula=nothing))
        np.testing.assert_allclose(population_only, np.broadcast_to(intercept, schools.shape))
    with pytest.raises(PredictionError, match="teacher"):
        nested_fit.predict(rows, re_formula="~(1 | teacher)")


def test_bad_choices_are_refused(slopes_fit):
    with pytest.raises(ValueError, match="kind"):
        slopes_fit.predict(kind="fitted")
    with pytest.raises(ValueError, match="new_levels"):
        slopes_fit.predict(new_levels="allow")


def test_log_likelihood_and_posterior_predictive_feed_arviz(slopes_fit):
    pointwise = slopes_fit.log_likelihood()
    assert pointwise.shape == (2, 500, slopes_fit.spec.n_obs)
    loo = az.loo(slopes_fit.idata)
    assert np.isfinite(loo.elpd_loo)
    assert np.isfinite(az.waic(slopes_fit.idata).elpd_waic)

    replicated = slopes_fit.posterior_predictive(seed=1)
    assert replicated.name == "y"
    assert replicated.shape == pointwise.shape
    np.testing.assert_array_equal(replicated.obs.values, slopes_fit.idata.observed_data.obs.values)
    slopes_fit.posterior_predictive(seed=2)  # recomputing replaces the group
    assert not np.array_equal(replicated.values, slopes_fit.idata.posterior_predictive["y"].values)


def test_compare_ranks_fits_and_computes_log_likelihoods(slopes_data):
    train, _ = slopes_data
    slopes = stanmer.fit("y ~ x + (1 + x | g)", train, seed=2, **SAMPLER)
    intercepts = stanmer.fit("y ~ x + (1 | g)", train, seed=2, **SAMPLER)
    table = compare({"slopes": slopes, "intercepts": intercepts})
    assert list(table.index) == ["slopes", "intercepts"]  # the data have varying slopes (sd 0.5)
    assert table.loc["intercepts", "elpd_diff"] > 0
    assert "log_likelihood" in slopes.idata.groups()


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(31)
    n = 200
    group, x = rng.integers(0, 10, n), rng.normal(size=n)
    size, exposure = rng.integers(5, 20, n), rng.uniform(1, 3, n)
    probability = 1 / (1 + np.exp(-(-0.5 + 0.8 * x + rng.normal(0, 0.5, 10)[group])))
    successes = rng.binomial(size, probability)
    return pd.DataFrame(
        {
            "successes": successes,
            "failures": size - successes,
            "claims": rng.poisson(exposure * np.exp(0.3 * x)),
            "exposure": exposure,
            "weight": rng.uniform(0.5, 2, n),
            "x": x,
            "g": group,
        }
    )


def test_offsets_enter_the_linear_predictor(counts):
    fit = stanmer.fit("claims ~ x + offset(np.log(exposure)) + (1 | g)", counts, family="poisson", seed=1, **SAMPLER)
    rows = pd.DataFrame({"x": [0.2, 0.2], "exposure": [1.0, 2.0], "g": [3, 3]})
    linpred = flat(fit.predict(rows, kind="linpred"))
    np.testing.assert_allclose(linpred[:, 1] - linpred[:, 0], np.log(2.0))


def test_weighted_log_likelihood_is_the_family_one_times_the_weights(counts):
    fit = stanmer.fit("claims ~ x + (1 | g)", counts, family="poisson", weights="weight", seed=1, **SAMPLER)
    mean = flat(fit.predict(kind="mean"))
    expected = stats.poisson.logpmf(counts["claims"].to_numpy(), mean) * counts["weight"].to_numpy()
    np.testing.assert_allclose(flat(fit.log_likelihood()), expected)


def test_binomial_response_draws_read_the_trials_from_newdata(counts):
    fit = stanmer.fit("cbind(successes, failures) ~ x + (1 | g)", counts, family="binomial", seed=1, **SAMPLER)
    rows = counts.head(5)
    draws = flat(fit.predict(rows, kind="response", seed=1))
    trials = (rows["successes"] + rows["failures"]).to_numpy()
    assert np.all((draws >= 0) & (draws <= trials))
    probability = flat(fit.predict(rows[["x", "g"]], kind="mean"))  # probabilities need no trials
    np.testing.assert_allclose(draws.mean(axis=0), probability.mean(axis=0) * trials, rtol=0.1)
    with pytest.raises(PredictionError, match="trials.*failures, successes"):
        fit.predict(rows[["x", "g"]], kind="response")


def test_posterior_predictive_alone_makes_loo_and_plot_ppc_work(slopes_data):
    train, _ = slopes_data
    fit = stanmer.fit("y ~ x + (1 | g)", train, seed=4, **SAMPLER)
    fit.posterior_predictive(seed=1)
    assert {"posterior_predictive", "log_likelihood"} <= set(fit.idata.groups())
    assert np.isfinite(az.loo(fit.idata).elpd_loo)


def test_a_saved_fit_loads_and_predicts_the_same(slopes_fit, slopes_data, tmp_path):
    _, held_out = slopes_data
    slopes_fit.save(tmp_path / "fit")
    loaded = stanmer.load(tmp_path / "fit")
    options = dict(kind="response", new_levels="sample", seed=9)
    pd.testing.assert_frame_equal(
        slopes_fit.predict_summary(held_out, **options), loaded.predict_summary(held_out, **options)
    )
