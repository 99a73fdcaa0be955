"""The prior language, defaults, validation, and priors as data."""

import numpy as np
import pytest

import stanmer
from stanmer.codegen import executable_text

FORMULA = "score_final ~ score_semi + score_quali + (1 | comp_id) + (1 + score_semi | athlete_id)"


@pytest.mark.parametrize(
    "text, cls, message",
    [
        ("normal(0, 5", "b", "cannot read the prior"),
        ("wobbly(0, 1)", "b", "unknown distribution 'wobbly'"),
        ("normal(0)", "b", "takes 2 argument"),
        ("normal(0, -1)", "b", "sigma must be positive"),
        ("normal(a, 1)", "b", "must be a number"),
        ("lkj(2)", "b", "does not fit class 'b'"),
        ("normal(0, 1)", "cor", "does not fit class 'cor'"),
        ("exponential(1)", "Intercept", "does not fit class 'Intercept'"),
        ("normal(0, 1)", "beta", "unknown prior class 'beta'"),
    ],
)
def test_bad_priors_are_refused_with_the_reason(text, cls, message):
    with pytest.raises(stanmer.PriorError, match=message):
        stanmer.prior(text, cls)


def test_default_prior_table_lists_every_parameter_class(ifsc_wide):
    table = stanmer.default_priors(FORMULA, ifsc_wide)
    assert list(table.columns) == ["class", "coef", "group", "prior", "source"]
    assert set(table["class"]) == {"Intercept", "b", "sd", "cor", "sigma"}
    assert set(table["source"]) == {"default"}
    sd_y, sd_x = ifsc_wide.score_final.std(ddof=0), ifsc_wide.score_semi.std(ddof=0)
    row = table[(table["class"] == "b") & (table["coef"] == "score_semi")].iloc[0]
    assert row["prior"] == f"normal(0, {2.5 * sd_y / sd_x:.4g})"
    assert table[table["class"] == "cor"]["group"].tolist() == ["athlete_id"]


def test_most_specific_user_prior_wins(ifsc_wide):
    priors = [
        stanmer.prior("normal(0, 1)", "b"),
        stanmer.prior("normal(0.5, 0.2)", "b", coef="score_quali"),
        stanmer.prior("exponential(0.1)", "sd", group="comp_id"),
    ]
    table = stanmer.design(FORMULA, ifsc_wide, priors=priors).spec.priors
    by_target = {(p.cls, p.coef, p.group): (str(p), p.source) for p in table}
    assert by_target[("b", "score_semi", None)] == ("normal(0, 1)", "user")
    assert by_target[("b", "score_quali", None)] == ("normal(0.5, 0.2)", "user")
    assert by_target[("sd", "Intercept", "comp_id")] == ("exponential(0.1)", "user")
    assert by_target[("sd", "Intercept", "athlete_id")][1] == "default"


def test_priors_as_a_dict(ifsc_wide):
    data = stanmer.stan_data(FORMULA, ifsc_wide, priors={"b": "normal(0, 3)", "sigma": "student_t(3, 0, 7)"})
    assert np.all(data["b_prior_sigma"] == 3) and data["sigma_prior_sigma"] == 7


@pytest.mark.parametrize(
    "prior, message",
    [
        (stanmer.prior("normal(0, 1)", "b", coef="score_final"), "no coefficient 'score_final'; coefficients: score_quali, score_semi"),
        (stanmer.prior("normal(0, 1)", "sd", group="event"), "no grouping factor 'event'; factors: athlete_id, comp_id"),
        (stanmer.prior("gamma(2, 1)", "shape"), "no parameters of class 'shape'; its classes are"),
    ],
)
def test_priors_on_unknown_targets_list_the_valid_ones(prior, message, ifsc_wide):
    with pytest.raises(stanmer.PriorError, match=message):
        stanmer.design(FORMULA, ifsc_wide, priors=[prior])


def test_mixed_distributions_within_one_block_are_refused(ifsc_wide):
    priors = [stanmer.prior("cauchy(0, 1)", "b", coef="score_semi")]
    with pytest.raises(stanmer.PriorError, match="mix distributions"):
        stanmer.stan_code(FORMULA, ifsc_wide, priors=priors)


def test_prior_numbers_are_data_not_program(ifsc_wide):
    default = stanmer.stan_code(FORMULA, ifsc_wide)
    tighter = stanmer.stan_code(FORMULA, ifsc_wide, priors=[stanmer.prior("normal(0, 0.01)", "b")])
    assert executable_text(default) == executable_text(tighter)
    data = stanmer.stan_data(FORMULA, ifsc_wide, priors=[stanmer.prior("normal(0, 0.01)", "b")])
    assert np.all(data["b_prior_sigma"] == 0.01)


def test_sample_prior_only_reproduces_the_prior(ifsc_wide):
    priors = [stanmer.prior("normal(1, 0.5)", "b")]
    fit = stanmer.fit(
        "score_final ~ score_semi + (1 | comp_id)", ifsc_wide, priors=priors, sample_prior="only",
        engine="stanli", seed=5, progress=False,
    )
    b = fit.idata.posterior["b"].sel(coef="score_semi").values
    assert abs(b.mean() - 1) < 0.05 and abs(b.std() - 0.5) < 0.05
    assert fit.stan_data["prior_only"] == 1
    with pytest.raises(ValueError, match="'no' or 'only'"):
        stanmer.stan_data("score_final ~ score_semi", ifsc_wide, sample_prior="yes")


def test_fit_reports_the_priors_it_used(ifsc_wide):
    fit = stanmer.fit(
        "score_final ~ score_semi + (1 | comp_id)", ifsc_wide, priors=[stanmer.prior("normal(0, 2)", "b")],
        engine="stanli", seed=5, draws=200, warmup=200, progress=False,
    )
    table = fit.priors
    assert table.loc[table["class"] == "b", "prior"].tolist() == ["normal(0, 2)"]
    assert table.loc[table["class"] == "b", "source"].tolist() == ["user"]


@pytest.mark.pystan
def test_new_prior_numbers_reuse_the_compiled_program(ifsc_wide):
    pytest.importorskip("stan")
    options = dict(engine="pystan", seed=2, draws=200, warmup=200, progress=False)
    stanmer.fit(FORMULA, ifsc_wide, **options)  # compiles unless already cached
    refit = stanmer.fit(
        FORMULA, ifsc_wide, priors=[stanmer.prior("normal(0, 0.5)", "b"), stanmer.prior("lkj(4)", "cor")], **options
    )
    assert refit.timings["compiled"] is False
    assert refit.timings["compile_seconds"] < 5
