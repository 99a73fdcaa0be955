"""fit.plot_trace, fit.plot_ranef and fit.plot_predictions (results/plots.py)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import simulate_groups  # noqa: E402

import stanmer  # noqa: E402

# The fits are kept short to keep the suite fast; their convergence warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::stanmer.SamplingWarning")


@pytest.fixture(scope="module")
def fit():
    """A correlated term on g (12 levels) and an intercept on site (5 levels)."""
    rng = np.random.default_rng(3)
    data, _ = simulate_groups(
        rng, n_groups=12, per_group=10, slopes_sd=(1.0, 0.4), cor=0.2, sigma=0.8, beta=(2.0, -0.5)
    )
    data["site"] = rng.integers(0, 5, len(data))
    data["y"] += rng.normal(0, 0.5, 5)[data["site"]]
    sampler = dict(engine="stanli", chains=2, warmup=300, draws=300, seed=4, progress=False)
    return stanmer.fit("y ~ x + (1 + x | g) + (1 | site)", data, **sampler)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_trace_shows_one_row_per_reported_parameter(fit):
    axes = fit.plot_trace()
    # b, sd_g, cor_g, sd_site, sigma: a density and a trace panel each
    assert axes.shape == (5, 2)
    titles = [ax.get_title() for ax in axes[:, 0]]
    assert titles == ["b", "sd_g", "cor_g", "sd_site", "sigma"]
    # the trace of b holds one line per chain and coefficient
    assert len(axes[0, 1].lines) == 2 * 2
    assert fit.plot_trace(var_names=["sigma"]).shape == (1, 2)


def test_plot_ranef_draws_one_interval_per_level_sorted_by_mean(fit):
    axes = fit.plot_ranef(prob=0.9)
    assert [ax.get_title() for ax in axes] == ["g: Intercept", "g: x", "site: Intercept"]
    table = fit.ranef(prob=0.9)["g"].xs("x", level="coef").sort_values("mean")
    slope_panel = axes[1]
    means = slope_panel.lines[0]
    np.testing.assert_allclose(means.get_xdata(), table["mean"])
    assert [t.get_text() for t in slope_panel.get_yticklabels()] == list(table.index)
    intervals = slope_panel.collections[0].get_segments()
    assert len(intervals) == 12
    np.testing.assert_allclose([s[:, 0] for s in intervals], table[["q5", "q95"]].to_numpy())
    assert "90% interval" in slope_panel.get_xlabel()

    only_site = fit.plot_ranef("site")
    assert len(only_site) == 1 and len(only_site[0].lines[0].get_xdata()) == 5
    with pytest.raises(ValueError, match="no group term on 'school'"):
        fit.plot_ranef("school")


def test_plot_predictions_against_a_numeric_predictor_per_group(fit):
    grid = pd.DataFrame({"x": np.tile(np.linspace(-2, 2, 9), 3), "g": np.repeat([0, 1, 2], 9), "site": 0})
    ax = fit.plot_predictions(grid, x="x", by="g", new_levels="zero", seed=1)
    assert len(ax.lines) == 3  # one mean line per group, no observed points (no y in grid)
    assert len(ax.collections) == 3  # one interval band per group
    first = ax.lines[0]
    expected = fit.predict_summary(grid[grid["g"] == 0], new_levels="zero", seed=1)
    np.testing.assert_allclose(first.get_xdata(), np.linspace(-2, 2, 9))
    np.testing.assert_allclose(first.get_ydata(), expected["mean"], rtol=1e-10)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y (mean, 95% interval)"


def test_plot_predictions_per_level_with_observed_points(fit):
    rows = fit.design.data.groupby("site").head(2)
    ax = fit.plot_predictions(rows, x="site", kind="response", seed=2)
    sites = list(dict.fromkeys(rows["site"]))
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(s) for s in sites]
    observed = ax.lines[-1]
    np.testing.assert_allclose(observed.get_ydata(), rows["y"])
    np.testing.assert_allclose(observed.get_xdata(), [sites.index(s) for s in rows["site"]])
    assert len(ax.containers) == 1 and len(ax.containers[0].lines[0].get_xdata()) == len(rows)
    assert ax.get_ylabel() == "y (response, 95% interval)"
    with pytest.raises(ValueError, match="x must name a column"):
        fit.plot_predictions(rows, x="age")


def test_plot_predictions_sets_series_side_by_side_only_where_they_share_a_value(fit):
    rows = pd.DataFrame({"x": 0.0, "g": [0, 1, 2], "site": [0, 0, 3]})
    ax = fit.plot_predictions(rows, x="site", by="g")
    positions = [np.asarray(c.lines[0].get_xdata(), dtype=float) for c in ax.containers]
    # site 0 holds g 0 and g 1: dodged around its tick; site 3 (g 2) is dodged the same way
    np.testing.assert_allclose(np.concatenate(positions), [-0.2, 0.0, 1.2])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "3"]
