"""Parameter recovery on simulated data, on the embedded engine (stanli)."""

import numpy as np
import pandas as pd
import pytest
from conftest import simulate_groups

import stanmer

FAST = dict(engine="stanli", chains=4, warmup=500, draws=500, seed=11, progress=False)
# Long enough that every quantity converges (R-hat <= 1.01, bulk ESS >= 400): the
# population intercept mixes slowly against non-centred effects of data-rich groups.
CONVERGED = {**FAST, "warmup": 1000, "draws": 4000}


def inside(table, name, truth):
    row = table.loc[name]
    return row["q2.5"] <= truth <= row["q97.5"]


def assert_converged(fit):
    """An interval that covers the truth means little from chains that have not mixed:
    every sampled quantity (group effects included) must pass R-hat and bulk ESS."""
    found = fit.diagnostics
    assert found.divergences == 0, found
    assert found.max_rhat <= 1.01 and found.min_ess_bulk >= 400, found


def test_varying_intercepts():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(25), 8)
    u = rng.normal(scale=1.5, size=25)
    x = rng.normal(size=g.size)
    df = pd.DataFrame({"y": 2.0 + 0.7 * x + u[g] + rng.normal(scale=0.8, size=g.size), "x": x, "g": g})
    fit = stanmer.fit("y ~ x + (1 | g)", df, **CONVERGED)
    assert_converged(fit)
    table = fit.summary()
    for name, truth in {"b[Intercept]": 2.0, "b[x]": 0.7, "sd_g[Intercept]": 1.5, "sigma": 0.8}.items():
        assert inside(table, name, truth), (name, table.loc[name].to_dict())


def test_correlated_slopes_recover_the_correlation_sign():
    rng = np.random.default_rng(12)
    df, _ = simulate_groups(rng, n_groups=40, per_group=15, slopes_sd=(1.0, 0.6), cor=-0.6, sigma=0.5, beta=(1.0, 2.0))
    fit = stanmer.fit("y ~ x + (1 + x | g)", df, **CONVERGED)
    table = fit.summary()
    truths = {"b[Intercept]": 1.0, "b[x]": 2.0, "sd_g[Intercept]": 1.0, "sd_g[x]": 0.6, "sigma": 0.5}
    for name, truth in truths.items():
        assert inside(table, name, truth), (name, table.loc[name].to_dict())
    cor = table.loc["cor_g[Intercept,x]"]
    assert cor["mean"] < 0 and inside(table, "cor_g[Intercept,x]", -0.6)
    assert_converged(fit)


def test_uncorrelated_slopes():
    rng = np.random.default_rng(5)
    df, _ = simulate_groups(rng, n_groups=40, per_group=12, slopes_sd=(0.8, 0.5), cor=0.0, sigma=0.5, beta=(0.0, 1.0))
    fit = stanmer.fit("y ~ x + (x || g)", df, **CONVERGED)
    assert_converged(fit)
    table = fit.summary()
    assert "cor_g" not in fit.idata.posterior
    for name, truth in {"b[x]": 1.0, "sd_g[Intercept]": 0.8, "sd_g[x]": 0.5, "sigma": 0.5}.items():
        assert inside(table, name, truth), (name, table.loc[name].to_dict())


def test_nested_groups():
    rng = np.random.default_rng(6)
    schools, classes, pupils = 12, 4, 6
    school = np.repeat(np.arange(schools), classes * pupils)
    klass = np.tile(np.repeat(np.arange(classes), pupils), schools)  # labels repeat across schools
    u_school = rng.normal(scale=2.0, size=schools)
    u_class = rng.normal(scale=1.0, size=(schools, classes))
    y = 10 + u_school[school] + u_class[school, klass] + rng.normal(scale=0.7, size=school.size)
    df = pd.DataFrame({"y": y, "school": school, "klass": klass})
    fit = stanmer.fit("y ~ 1 + (1 | school/klass)", df, **CONVERGED)
    assert_converged(fit)
    table = fit.summary()
    assert fit.idata.posterior.sizes["school:klass"] == schools * classes
    for name, truth in {"sd_school[Intercept]": 2.0, "sd_school:klass[Intercept]": 1.0, "sigma": 0.7}.items():
        assert inside(table, name, truth), (name, table.loc[name].to_dict())


def test_crossed_groups():
    rng = np.random.default_rng(27)
    subjects, items = 30, 20
    s = np.repeat(np.arange(subjects), items)
    i = np.tile(np.arange(items), subjects)
    u_s, u_i = rng.normal(scale=1.2, size=subjects), rng.normal(scale=0.6, size=items)
    x = rng.normal(size=s.size)
    y = -1 + 0.5 * x + u_s[s] + u_i[i] + rng.normal(scale=1.0, size=s.size)
    df = pd.DataFrame({"y": y, "x": x, "subject": s, "item": i})
    fit = stanmer.fit("y ~ x + (1 | subject) + (1 | item)", df, **CONVERGED)
    assert_converged(fit)
    table = fit.summary()
    truths = {"b[Intercept]": -1.0, "b[x]": 0.5, "sd_subject[Intercept]": 1.2, "sd_item[Intercept]": 0.6, "sigma": 1.0}
    for name, truth in truths.items():
        assert inside(table, name, truth), (name, table.loc[name].to_dict())


@pytest.mark.parametrize("formula", ["y ~ 0 + x + (1 | g)", "y ~ x + (1 | g) + (0 + x | g)"])
def test_other_structures_run_and_name_their_effects(formula):
    rng = np.random.default_rng(8)
    df, _ = simulate_groups(rng, n_groups=20, per_group=10, slopes_sd=(1.0, 0.5), cor=0.0, sigma=0.5, beta=(0.0, 1.0))
    fit = stanmer.fit(formula, df, **FAST)
    assert fit.idata.posterior["r_g"].sizes["g"] == 20
    assert inside(fit.summary(), "b[x]", 1.0)
