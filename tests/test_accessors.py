"""fixef / ranef / coef / varcorr tables and pp_check (results/accessors.py)."""

import matplotlib

matplotlib.use("Agg")

import arviz as az  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import simulate_groups  # noqa: E402

import stanmer  # noqa: E402

# The fits are kept short to keep the suite fast; their convergence warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::stanmer.SamplingWarning")
INTERVAL = ["mean", "sd", "q2.5", "q97.5"]


@pytest.fixture(scope="module")
def fit():
    """Two factors: a correlated term on g and an intercept-only term on site."""
    rng = np.random.default_rng(3)
    data, _ = simulate_groups(
        rng, n_groups=12, per_group=15, slopes_sd=(1.0, 0.4), cor=0.2, sigma=0.8, beta=(2.0, -0.5)
    )
    data["site"] = rng.integers(0, 5, len(data))
    data["y"] += rng.normal(0, 0.5, 5)[data["site"]]
    sampler = dict(engine="stanli", chains=2, warmup=500, draws=500, seed=4, progress=False)
    return stanmer.fit("y ~ x + (1 + x | g) + (1 | site)", data, **sampler)


def test_fixef_summarises_b(fit):
    table = fit.fixef()
    assert list(table.index) == ["Intercept", "x"]
    assert list(table.columns) == INTERVAL
    np.testing.assert_allclose(table["mean"], fit.idata.posterior["b"].mean(("chain", "draw")))
    assert list(fit.fixef(prob=0.5).columns) == ["mean", "sd", "q25", "q75"]


def test_ranef_one_table_per_factor_indexed_by_level_and_coef(fit):
    tables = fit.ranef()
    assert list(tables) == ["g", "site"]
    assert tables["g"].shape == (12 * 2, 4)
    assert tables["site"].index.names == ["level", "coef"]
    assert list(tables["site"].index.get_level_values("coef").unique()) == ["Intercept"]
    r = fit.idata.posterior["r_g"].sel(g="3", g__coef="x")
    assert tables["g"].loc[("3", "x"), "mean"] == pytest.approx(float(r.mean()))


def test_coef_is_fixef_plus_ranef_per_level(fit):
    fixed, random, combined = fit.fixef(), fit.ranef(), fit.coef()
    for factor in ("g", "site"):
        assert combined[factor].index.equals(random[factor].index)
        for level, coef in combined[factor].index:
            expected = fixed.loc[coef, "mean"] + random[factor].loc[(level, coef), "mean"]
            assert combined[factor].loc[(level, coef), "mean"] == pytest.approx(expected)
    # the interval comes from per-draw sums, not from adding intervals
    draws = (fit.idata.posterior["b"].sel(coef="x") + fit.idata.posterior["r_g"].sel(g="0", g__coef="x")).values
    assert combined["g"].loc[("0", "x"), "q97.5"] == pytest.approx(np.quantile(draws, 0.975))


def test_varcorr_lists_sds_correlations_and_family_parameters(fit):
    table = fit.varcorr()
    assert list(table.index) == [
        ("g", "sd(Intercept)"),
        ("g", "sd(x)"),
        ("g", "cor(Intercept,x)"),
        ("site", "sd(Intercept)"),
        ("Family", "sigma"),
    ]
    assert list(table.columns) == INTERVAL
    assert (table.loc[[("g", "sd(Intercept)"), ("Family", "sigma")], "mean"] > 0).all()
    assert -1 <= table.loc[("g", "cor(Intercept,x)"), "mean"] <= 1


def test_pp_check_draws_observed_over_replicated_densities(fit):
    _, ax = plt.subplots()
    returned = fit.pp_check(n=20, ax=ax, seed=1)
    assert returned is ax
    assert len(ax.lines) == 21
    assert ax.get_xlabel() == "y"
    assert "posterior_predictive" in fit.idata.groups()
    az.plot_ppc(fit.idata, num_pp_samples=10)  # the group is laid out as arviz expects
    plt.close("all")


def test_pp_check_of_a_binary_response_shows_value_shares():
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"x": rng.normal(size=150), "g": rng.integers(0, 6, 150)})
    data["y"] = (rng.random(150) < 1 / (1 + np.exp(-data["x"]))).astype(int)
    sampler = dict(engine="stanli", chains=2, warmup=300, draws=300, seed=2, progress=False)
    binary = stanmer.fit("y ~ x + (1 | g)", data, family="bernoulli", **sampler)
    ax = binary.pp_check(n=10, seed=1)
    observed = ax.lines[-1]
    np.testing.assert_allclose(observed.get_xdata(), [0, 1])
    np.testing.assert_allclose(observed.get_ydata(), [1 - data["y"].mean(), data["y"].mean()])
    assert ax.get_ylabel() == "share of rows"
    plt.close("all")
