"""Distributional regression, stanmer.bf(): formulas for a family's auxiliary
parameters (sigma on the log scale, zi / hu on the logit scale)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import example_module

import stanmer
from stanmer.results.idata import check_names

ROOT = Path(__file__).resolve().parents[1]
make_data = example_module("distributional", "make_data")
TRUTH = make_data.TRUTH
FORMULA = stanmer.bf("y ~ dose + (1 | lab)", sigma="~ dose + (1 | lab)")


@pytest.fixture(scope="module")
def assays():
    return pd.read_csv(ROOT / "examples" / "distributional" / "assays.csv")


@pytest.fixture(scope="module")
def fitted(assays):
    return stanmer.fit(FORMULA, assays, engine="stanli", chains=2, warmup=400, draws=400, seed=3, progress=False)


# --- reading bf() ------------------------------------------------------------


def test_bf_keeps_the_formulas_as_written():
    formula = stanmer.bf("y ~ x", sigma="x + (1|g)", nu="~1")
    assert formula.aux == (("sigma", "~ x + (1|g)"), ("nu", "~ 1"))
    assert str(formula) == "y ~ x; sigma ~ x + (1|g); nu ~ 1"
    with pytest.raises(AttributeError):
        formula.formula = "y ~ 1"  # frozen


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: stanmer.bf("y ~ x", sigma="s ~ x"), r"has a response \('s'\) left of '~'"),
        (lambda: stanmer.bf("y ~ x", sigma="~ "), "the formula of sigma is empty"),
        (lambda: stanmer.bf("y ~ x", sigma=3), "must be text"),
    ],
)
def test_bf_refuses_what_is_not_a_right_hand_side(make, message):
    with pytest.raises(stanmer.FormulaError, match=message):
        make()


@pytest.mark.parametrize(
    "family, aux, message",
    [
        ("gaussian", {"phi": "~ x"}, r"family gaussian has no auxiliary parameter 'phi'; its auxiliary parameters are: sigma"),
        ("poisson", {"sigma": "~ x"}, r"family poisson has no auxiliary parameter 'sigma'; its auxiliary parameters are: none"),
        ("zero_inflated_negbinomial", {"hu": "~ x"}, r"are: shape, zi"),
    ],
)
def test_an_unknown_auxiliary_parameter_names_the_familys(family, aux, message):
    data = pd.DataFrame({"y": [0, 1, 2, 3, 1, 0], "x": [0.1, 0.5, 0.2, 0.9, 0.4, 0.3]})
    with pytest.raises(stanmer.FormulaError, match=message):
        stanmer.stan_code(stanmer.bf("y ~ x", **aux), data, family)


def test_sigma_formula_and_known_se_refused_together():
    data = pd.DataFrame({"y": [0.1, 1.0, 2.0, 3.0], "s": [0.1, 0.2, 0.1, 0.3], "x": [1.0, 2.0, 3.0, 5.0]})
    with pytest.raises(stanmer.FormulaError, match="se()"):
        stanmer.stan_code(stanmer.bf("y | se(s) ~ x", sigma="~ x"), data)


def test_bf_without_auxiliary_formulas_is_the_plain_model(assays):
    assert stanmer.stan_code(stanmer.bf("y ~ dose + (1 | lab)"), assays) == stanmer.stan_code("y ~ dose + (1 | lab)", assays)


# --- the program -------------------------------------------------------------


def test_program_models_sigma_per_row_through_the_glm(assays):
    code = stanmer.stan_code(FORMULA, assays)
    assert "real<lower=0> sigma;" not in code  # no constant sigma any more
    assert "vector[N] sigma = exp(Intercept_sigma_c + Xc_sigma * b_sigma + r_2[g_2]);" in code
    assert "normal_id_glm_lupdf(Y | Xc, eta, b, sigma)" in code
    assert "// group term 2: (1 | lab) for sigma -> sigma_Intercept by lab" in code


def test_families_without_a_vector_glm_argument_use_the_plain_likelihood(assays):
    counts = assays.assign(n=np.round(np.exp(assays["y"] / 3)).astype(int))
    code = stanmer.stan_code(stanmer.bf("n ~ dose", shape="~ dose"), counts, "negbinomial")
    assert "_glm_" not in code
    assert "vector[N] shape = exp(Intercept_shape_c + Xc_shape * b_shape);" in code


def test_zero_part_formula_is_on_the_logit_scale(assays):
    counts = assays.assign(n=(assays["y"] > 3).astype(int) * assays["dose"])
    code = stanmer.stan_code(stanmer.bf("n ~ dose", zi="~ dose + (1 | lab)"), counts, "zero_inflated_poisson")
    assert "vector[N] zi = inv_logit(Intercept_zi_c + Xc_zi * b_zi + r_1[g_1]);" in code
    assert "zero_inflated_poisson_log_lupmf(Y[n] | eta[n], zi[n])" in code


def test_prior_numbers_of_the_sigma_part_are_data(assays):
    tighter = [stanmer.prior("normal(0, 0.5)", "b", dpar="sigma")]
    assert stanmer.stan_code(FORMULA, assays, priors=tighter) == stanmer.stan_code(FORMULA, assays)
    data = stanmer.stan_data(FORMULA, assays, priors=tighter)
    assert data["b_sigma_prior_sigma"].tolist() == [0.5]
    assert data["b_prior_sigma"].tolist() != [0.5]  # the location's slopes keep their default


# --- priors ------------------------------------------------------------------


def test_default_priors_list_the_sigma_part(assays):
    table = stanmer.default_priors(FORMULA, assays)
    assert list(table.columns) == ["class", "coef", "group", "dpar", "prior", "source"]
    sigma = table[table["dpar"] == "sigma"]
    assert sigma[["class", "coef", "group"]].values.tolist() == [["Intercept", "", ""], ["b", "dose", ""], ["sd", "Intercept", "lab"]]
    assert sigma["prior"].tolist()[1:] == [f"normal(0, {2.5 / assays['dose'].std(ddof=0):.4g})", "student_t(3, 0, 1)"]
    assert "sigma" not in set(table["class"])  # sigma is no longer one parameter with its own prior


def test_a_prior_selects_its_part_by_dpar(assays):
    priors = [stanmer.prior("student_t(3, 0, 0.5)", "sd", dpar="sigma"), stanmer.prior("normal(0, 2)", "b")]
    design = stanmer.design(FORMULA, assays, priors=priors)
    chosen = {(p.cls, p.dpar): str(p) for p in design.spec.priors if p.source == "user"}
    assert chosen == {("sd", "sigma"): "student_t(3, 0, 0.5)", ("b", None): "normal(0, 2)"}


@pytest.mark.parametrize(
    "prior, message",
    [
        (lambda: stanmer.prior("normal(0, 1)", "b", dpar="zi"), "no formula for 'zi'; formulas of auxiliary parameters: sigma"),
        (lambda: stanmer.prior("normal(0, 1)", "b", coef="lab", dpar="sigma"), "no coefficient 'lab'"),
    ],
)
def test_a_prior_on_a_missing_part_or_coefficient_is_refused(assays, prior, message):
    with pytest.raises(stanmer.PriorError, match=message):
        stanmer.design(FORMULA, assays, priors=[prior()])


def test_dpar_on_a_family_parameter_class_is_refused():
    with pytest.raises(stanmer.PriorError, match="dpar selects the effects of an auxiliary formula"):
        stanmer.prior("gamma(2, 0.1)", "nu", dpar="sigma")


def test_results_names_clash_is_refused_before_sampling():
    data = pd.DataFrame({"y": [0.1, 1.2, 2.1, 2.9, 4.2], "x": [1.0, 2.0, 3.0, 4.0, 5.5], "sigma_x": [0.3, 0.1, 0.4, 0.2, 0.9]})
    design = stanmer.design(stanmer.bf("y ~ x + sigma_x", sigma="~ x"), data)
    with pytest.raises(stanmer.FormulaError, match="'sigma_x' occur twice"):
        check_names(design.spec)


# --- fitting, recovery and prediction ----------------------------------------


def test_heteroscedastic_model_recovers_the_truth():
    """Fresh data from the example's simulation, twice its size (the example's
    own draw happens to put sigma_dose just above brms's interval too)."""
    data = make_data.simulate(np.random.default_rng(11), n=800, labs=40)
    fit = stanmer.fit(FORMULA, data, engine="stanli", chains=4, warmup=1000, draws=1000, seed=5, progress=False)
    found = fit.diagnostics
    assert found.divergences == 0 and found.max_rhat <= 1.01, found
    table = fit.summary()
    names = {
        "b[Intercept]": "Intercept", "b[dose]": "dose", "sd_lab[Intercept]": "sd_lab",
        "b[sigma_Intercept]": "sigma_Intercept", "b[sigma_dose]": "sigma_dose", "sd_lab[sigma_Intercept]": "sd_lab_sigma",
    }
    for name, truth in names.items():
        row = table.loc[name]
        assert row["q2.5"] <= TRUTH[truth] <= row["q97.5"], (name, row.to_dict())


def test_mean_predictions_ignore_sigma_and_response_draws_spread_with_it(fitted):
    new = pd.DataFrame({"dose": [0, 4], "lab": [1, 1]})
    mean = fitted.predict(new, kind="mean")
    posterior = fitted.idata.posterior
    b = posterior["b"]
    r = posterior["r_lab"].sel(lab="1", lab__coef="Intercept")
    expected = b.sel(coef="Intercept") + b.sel(coef="dose") * new["dose"].to_xarray().rename(index="obs") + r
    np.testing.assert_allclose(mean.values, expected.transpose("chain", "draw", "obs").values, rtol=1e-10)
    spread = fitted.predict(new, kind="response", seed=1).std(("chain", "draw")).values
    sigma = np.exp(b.sel(coef="sigma_Intercept") + b.sel(coef="sigma_dose") * 4
                   + posterior["r_lab"].sel(lab="1", lab__coef="sigma_Intercept"))
    assert spread[1] > 1.5 * spread[0]  # the noise grows with the dose
    assert abs(spread[1] - float(np.sqrt((sigma**2).mean() + mean.isel(obs=1).var()))) < 0.1 * spread[1]


def test_new_labs_draw_both_parts_effects(fitted):
    """A new lab's mean is uncertain by sd_lab[Intercept]; its sigma is
    exp(sigma_Intercept + 2 sigma_dose + v), v ~ normal(0, sd_lab[sigma_Intercept])."""
    new = pd.DataFrame({"dose": [2, 2], "lab": [1, 999]})
    mean = fitted.predict(new, kind="mean", seed=2)
    assert float(mean.isel(obs=1).std()) > 2 * float(mean.isel(obs=0).std())
    response = fitted.predict(new, kind="response", seed=2).isel(obs=1)
    b, sd = fitted.idata.posterior["b"], fitted.idata.posterior["sd_lab"].sel(lab__coef="sigma_Intercept")
    mean_square_sigma = np.exp(2 * (b.sel(coef="sigma_Intercept") + 2 * b.sel(coef="sigma_dose")) + 2 * sd**2).mean()
    expected = float(np.sqrt(mean_square_sigma + mean.isel(obs=1).var()))
    assert abs(float(response.std()) - expected) < 0.05 * expected
    with pytest.raises(stanmer.PredictionError, match="not seen in training"):
        fitted.predict(new, new_levels="error")


def test_log_likelihood_uses_each_rows_sigma(fitted, assays):
    from scipy import stats

    pointwise = fitted.log_likelihood()
    posterior = fitted.idata.posterior.isel(chain=0, draw=0)
    b, r = posterior["b"], posterior["r_lab"]
    lab = assays["lab"].astype(str).to_numpy()
    mu = b.sel(coef="Intercept").item() + b.sel(coef="dose").item() * assays["dose"] + r.sel(lab=lab, lab__coef="Intercept").values
    log_sigma = (b.sel(coef="sigma_Intercept").item() + b.sel(coef="sigma_dose").item() * assays["dose"]
                 + r.sel(lab=lab, lab__coef="sigma_Intercept").values)
    np.testing.assert_allclose(pointwise.isel(chain=0, draw=0).values, stats.norm.logpdf(assays["y"], mu, np.exp(log_sigma)))


def test_saved_fit_loads_with_its_sigma_formula(fitted, tmp_path):
    fitted.save(tmp_path / "fit")
    loaded = stanmer.load(tmp_path / "fit")
    assert loaded.spec.aux_parts == fitted.spec.aux_parts
    new = pd.DataFrame({"dose": [1, 3], "lab": [2, 5]})
    np.testing.assert_allclose(loaded.predict(new).values, fitted.predict(new).values)


# --- group terms shared across formulas: (1 |ID| g) ---------------------------

SHARED = stanmer.bf("y ~ dose + (1 |p| lab)", sigma="~ dose + (1 |p| lab)")


def test_terms_with_one_id_become_one_correlated_term(assays):
    design = stanmer.design(SHARED, assays)
    (term,) = design.spec.group_terms
    assert term.names == ("Intercept", "sigma_Intercept") and term.kind.has_correlations
    assert term.label == "(1 |p| lab) + (1 |p| lab) for sigma"
    code = stanmer.stan_code(SHARED, assays)
    assert "rows_dot_product(Z_1[ : , 2:2], r_1[g_1, 2:2])" in code  # sigma's column of the shared effects
    assert "vector[N] eta = Intercept_c + rows_dot_product(Z_1[ : , 1:1], r_1[g_1, 1:1]);" in code
    table = stanmer.default_priors(SHARED, assays)
    assert table[table["class"] == "cor"][["group", "dpar", "prior"]].values.tolist() == [["lab", "", "lkj(1)"]]
    assert table[table["class"] == "sd"]["dpar"].tolist() == ["", "sigma"]


def test_without_an_id_the_parts_terms_stay_independent(assays):
    design = stanmer.design(stanmer.bf("y ~ dose + (1 |p| lab)", sigma="~ dose + (1 |q| lab)"), assays)
    assert [t.names for t in design.spec.group_terms] == [("Intercept",), ("sigma_Intercept",)]


def test_an_unreadable_id_is_refused(assays):
    with pytest.raises(stanmer.FormulaError, match=r"\(terms \|ID\| factor\)"):
        stanmer.design(stanmer.bf("y ~ dose + (1 |2 p| lab)", sigma="~ (1 |2 p| lab)"), assays)


def test_shared_term_reports_the_correlation_across_formulas(assays):
    fit = stanmer.fit(SHARED, assays, engine="stanli", chains=2, warmup=300, draws=300, seed=4, progress=False)
    table = fit.summary()
    row = table.loc["cor_lab[Intercept,sigma_Intercept]"]
    assert -1 < row["q2.5"] < 0 < row["q97.5"] < 1  # simulated independent: an interval about 0
    new = pd.DataFrame({"dose": [2], "lab": [999]})
    assert np.isfinite(fit.predict(new, kind="response", seed=1).values).all()


# --- as text: the command line ----------------------------------------------


def test_text_with_semicolons_is_a_bf(assays):
    text = "y ~ dose + (1 | lab); sigma ~ dose + (1 | lab)"
    assert str(FORMULA) == text
    assert stanmer.stan_code(text, assays) == stanmer.stan_code(FORMULA, assays)
    with pytest.raises(stanmer.FormulaError, match="after ';' each formula names an auxiliary parameter"):
        stanmer.stan_code("y ~ dose; ~ dose", assays)


def test_command_line_prints_the_program_of_a_bf(capsys):
    from stanmer.cli.main import main

    data = ROOT / "examples" / "distributional" / "assays.csv"
    assert main(["code", "y ~ dose + (1 | lab); sigma ~ dose", "--data", str(data)]) == 0
    assert "vector[N] sigma = exp(Intercept_sigma_c + Xc_sigma * b_sigma);" in capsys.readouterr().out
