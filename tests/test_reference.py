"""The reference example (IFSC Fit A) against lme4's published figures, and
the embedded engine cross-checked against a compiled one."""

import os
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pytest

import stanmer

ROOT = Path(__file__).resolve().parents[1]
FIT_A = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"
FIT_B = "score_final ~ 1 + score_semi + score_quali + (1 | event_name:gender) + (1 | athlete_name)"
LME4_FIXED = {"Intercept": (8.2864, 15.1752), "score_semi": (0.1727, 0.1523), "score_quali": (0.3618, 0.1335)}
LME4_SIGMA = 13.78


@pytest.fixture(scope="module")
def fit_a(ifsc_wide):
    return stanmer.fit(FIT_A, ifsc_wide, engine="stanli", seed=20251126, progress=False)


def test_fit_a_population_effects_within_half_an_lme4_standard_error(fit_a):
    b = fit_a.idata.posterior["b"]
    for coef, (estimate, se) in LME4_FIXED.items():
        mean = float(b.sel(coef=coef).mean())
        assert abs(mean - estimate) <= 0.5 * se, (coef, mean, estimate)


def test_fit_a_residual_sd_within_15_percent(fit_a):
    sigma = float(fit_a.idata.posterior["sigma"].mean())
    assert abs(sigma - LME4_SIGMA) <= 0.15 * LME4_SIGMA, sigma


def test_fit_a_samples_cleanly_with_defaults(fit_a):
    assert fit_a.diagnostics.divergences == 0
    assert fit_a.diagnostics.max_rhat <= 1.01


def test_fit_a_inference_data_is_named(fit_a):
    post = fit_a.idata.posterior
    assert list(post["coef"].values) == ["Intercept", "score_semi", "score_quali"]
    assert post["r_athlete_id"].sizes["athlete_id"] == 37
    assert post["r_comp_id"].sizes["comp_id"] == 11
    assert "14053" in post["comp_id"].values
    assert set(fit_a.idata.groups()) >= {"posterior", "sample_stats", "observed_data"}
    assert fit_a.idata.observed_data["score_final"].size == 88


def test_report_reads_like_brms(fit_a):
    text = str(fit_a)
    for expected in (
        "Formula: " + FIT_A,
        "88 observations; groups: comp_id, 11; athlete_id, 37",
        "Population-level effects:",
        "Group-level effects: ~athlete_id (37 levels):",
        "sd(Intercept)",
        "Family-specific parameters:",
        "sigma",
        "Rhat",
        "Bulk_ESS",
        "Tail_ESS",
    ):
        assert expected in text


def test_example_script_prints_the_comparison():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ifsc" / "fit_reference.py")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "stanmer posterior mean vs lme4 (REML)" in result.stdout
    assert "b[score_quali]" in result.stdout


@pytest.mark.pystan
def test_stanli_and_pystan_agree_within_monte_carlo_error(fit_a, ifsc_wide):
    pytest.importorskip("stan")
    compiled = stanmer.fit(FIT_A, ifsc_wide, engine="pystan", seed=7, progress=False)
    for name in ("b", "sd_comp_id", "sd_athlete_id", "sigma"):
        ours, theirs = fit_a.idata.posterior[name], compiled.idata.posterior[name]
        gap = np.abs(ours.mean(("chain", "draw")) - theirs.mean(("chain", "draw")))
        error = np.sqrt(az.mcse(fit_a.idata, var_names=[name])[name] ** 2 + az.mcse(compiled.idata, var_names=[name])[name] ** 2)
        assert np.all(gap <= 4 * error), (name, gap.values, error.values)


@pytest.mark.pystan
def test_same_structure_on_other_data_reuses_the_compiled_program(ifsc_wide):
    """Fit B has Fit A's structure (two varying intercepts): no new compile."""
    pytest.importorskip("stan")
    import ifsc_data

    stanmer.fit(FIT_A, ifsc_wide, engine="pystan", seed=1, draws=200, warmup=200, progress=False)
    train, _ = ifsc_data.train_test()
    refit = stanmer.fit(FIT_B, train, engine="pystan", seed=1, draws=200, warmup=200, progress=False)
    assert refit.timings["compiled"] is False


@pytest.mark.pystan
def test_fit_works_inside_a_running_event_loop(ifsc_wide):
    """As in a Jupyter cell: pystan's own loop must not clash with the caller's."""
    pytest.importorskip("stan")
    import asyncio

    async def notebook_cell():
        return stanmer.fit(FIT_A, ifsc_wide, engine="pystan", seed=3, draws=200, warmup=200, progress=False)

    fit = asyncio.run(notebook_cell())
    assert fit.idata.posterior["b"].sizes["coef"] == 3


def test_curitiba_predictions_match_lme4_and_sampling_new_levels_widens_them():
    """Fit B on the 72 training rows; the 16 held-out Curitiba finals."""
    import ifsc_data
    import predict_curitiba

    train, test = ifsc_data.train_test()
    fit = stanmer.fit(predict_curitiba.FORMULA, train, engine="stanli", seed=20251126, progress=False)
    table = predict_curitiba.prediction_table(fit, test)
    assert (table["zero_mean"] - table["lme4"]).abs().max() <= 3.0
    assert (table["sample_mean"] - table["zero_mean"]).abs().max() <= 1.5
    assert (table["sample_width95"] > table["zero_width95"]).all()
