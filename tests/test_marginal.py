"""Group effects integrated out of a Gaussian model (stanmer.marginal): the
exact multivariate normal log density, the per-row program's posterior, the
cases that keep the other programs, and the reference model's ESS."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import stanmer
from stanmer.codegen import generate
from stanmer.marginal import MAX_DENSE_LEVELS, applies, dense_levels, statistics, uses_marginal
from stanmer.pipeline import build_model
from stanmer.standata import make_standata

stanli = pytest.importorskip("stanli")
# The short fits of the results test warn about their ESS; that is expected.
pytestmark = pytest.mark.filterwarnings("ignore::stanmer.SamplingWarning")


@pytest.fixture(scope="module")
def frame():
    """Unbalanced crossed terms (g, h) and a nesting (h within f)."""
    rng = np.random.default_rng(11)
    n = 90
    g = rng.integers(0, 15, size=n)
    h = rng.choice(list("pqrstuv"), size=n, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.05, 0.05])
    f = rng.choice(["F1", "F2", "F3"], size=n)
    x = rng.normal(size=n)
    y = 3 + 0.5 * x + rng.normal(size=15)[g] + rng.normal(size=n) * 0.8
    return pd.DataFrame({"y": y * 10 + 50, "x": x, "g": g, "h": h, "f": f, "exposure": rng.uniform(0.5, 2, n)})


FORMULAS = [
    "y ~ x + (1 | g)",  # T = 1: no Cholesky
    "y ~ x + (1 | g) + (1 | h)",  # crossed
    "y ~ x + (1 | g) + (1 | f/h)",  # T = 3, nested
    "y ~ x + offset(np.log(exposure)) + (1 | h) + (1 | g)",
]


def _exact_log_density(design, data, point, wrong_term=None):
    """scipy's MVN of Y with the effects integrated out, the priors, and the log
    Jacobian of the sds' log transforms; `wrong_term` drops one term's covariance."""
    spec = design.spec
    K, T = len(spec.population), len(spec.group_terms)
    b, intercept_c, scales = point[:K], point[K], np.exp(point[K + 1 :])
    X = np.asarray(design.X, float).reshape(len(design.y), K)
    y = np.asarray(design.y, float) - (design.offset if design.offset is not None else 0)
    cov = scales[-1] ** 2 * np.eye(len(y))
    for t, group in enumerate(design.groups):
        if t != wrong_term:
            Z = np.eye(len(spec.group_terms[t].levels))[group.index - 1]
            cov += scales[t] ** 2 * Z @ Z.T
    lp = stats.multivariate_normal(intercept_c + (X - X.mean(0)) @ b, cov).logpdf(y)
    lp += stats.norm(data["b_prior_mu"], data["b_prior_sigma"]).logpdf(b).sum()
    lp += stats.t(data["Intercept_prior_nu"], data["Intercept_prior_mu"], data["Intercept_prior_sigma"]).logpdf(intercept_c)
    for name, value in zip([f"sd_{t}" for t in range(1, T + 1)] + ["sigma"], scales):
        lp += stats.t(data[f"{name}_prior_nu"], data[f"{name}_prior_mu"], data[f"{name}_prior_sigma"]).logpdf(value)
    return lp + point[K + 1 :].sum()


def _marginal_model(design, prior_only=False):
    data = make_standata(design, prior_only) | statistics(design)
    return stanli.Model(stan_code=generate(design.spec, marginal=True), data=data), data


@pytest.mark.parametrize("formula", FORMULAS)
def test_log_density_is_the_exact_multivariate_normal(frame, formula):
    design = stanmer.design(formula, frame)
    model, data = _marginal_model(design)
    K, T = len(design.spec.population), len(design.spec.group_terms)
    rng = np.random.default_rng(5)
    points = [np.concatenate([rng.normal(0, 1, K), [50 + rng.normal(0, 3)], np.log(rng.uniform(1, 15, T + 1))])
              for _ in range(8)]
    stan = np.array([model.log_prob_grad(p)[0] for p in points])
    exact = np.array([_exact_log_density(design, data, p) for p in points])
    assert np.ptp(stan - exact) < 1e-8  # equal up to the dropped constant
    wrong = np.array([_exact_log_density(design, data, p, wrong_term=T - 1) for p in points])
    assert np.ptp(stan - wrong) > 1e-3  # the check sees a missing term


@pytest.mark.parametrize("formula", FORMULAS[:3])
def test_stanc_accepts_the_program(frame, formula, tmp_path):
    """pystan and CmdStan compile the program with stanc."""
    import subprocess
    from pathlib import Path

    httpstan = pytest.importorskip("httpstan", reason="stanc ships inside the httpstan wheel")
    path = tmp_path / "model.stan"
    path.write_text(stanmer.stan_code(formula, frame))
    assert "integrated out" in path.read_text()
    stanc = Path(httpstan.__file__).parent / "stanc"
    result = subprocess.run([str(stanc), str(path), "--o", str(tmp_path / "model.hpp")], capture_output=True, text=True)
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr


def _posterior_gaps(first, second, names):
    """Largest |difference of posterior means| in combined MC standard errors."""
    import arviz as az

    worst = 0.0
    for name in names:
        a, b = first.idata.posterior[name], second.idata.posterior[name]
        se = np.sqrt(az.mcse(a.to_dataset(), method="mean")[name] ** 2 + az.mcse(b.to_dataset(), method="mean")[name] ** 2)
        worst = max(worst, float(np.max(np.abs((a.mean(("chain", "draw")) - b.mean(("chain", "draw"))) / se))))
    return worst


def test_posterior_matches_the_per_row_program_effects_included(frame, monkeypatch):
    import stanmer.marginal

    formula = "y ~ x + (1 | g) + (1 | h)"
    marginal = stanmer.fit(formula, frame, seed=4, progress=False)
    assert "integrated out" in marginal.stan_code
    monkeypatch.setattr(stanmer.marginal, "MAX_DENSE_LEVELS", -1)
    plain = stanmer.fit(formula, frame, seed=4, progress=False)
    assert "z_1" in plain.stan_code
    names = ["b", "sd_g", "sd_h", "sigma", "r_g", "r_h"]  # 2 + 1 + 1 + 1 + 15 + 7 = 27 quantities
    assert _posterior_gaps(marginal, plain, names) < 4.0
    for name in ["sd_g", "sd_h", "sigma"]:  # spreads too
        ratio = float(marginal.idata.posterior[name].std() / plain.idata.posterior[name].std())
        assert 0.85 < ratio < 1.15, name


def test_prior_only_draws_the_effects_from_their_prior(frame):
    formula = "y ~ x + (1 | g) + (1 | h)"
    fit = stanmer.fit(formula, frame, seed=2, sample_prior="only", progress=False)
    assert "integrated out" in fit.stan_code
    post = fit.idata.posterior
    standardised = (post["r_g"] / post["sd_g"]).values.ravel()  # r / sd ~ N(0, 1) under the prior
    assert abs(standardised.mean()) < 0.05 and abs(standardised.std() - 1) < 0.05
    # sigma follows its half student-t prior, not the likelihood (posterior median ~8)
    data = stanmer.stan_data(formula, frame)
    prior_median = data["sigma_prior_sigma"] * stats.t(data["sigma_prior_nu"]).ppf(0.75)
    assert abs(float(post["sigma"].median()) / prior_median - 1) < 0.1


@pytest.fixture(scope="module")
def marginal_fit(frame):
    return stanmer.fit("y ~ x + (1 | g) + (1 | f/h)", frame, seed=3, chains=2, warmup=300, draws=300, progress=False)


def test_results_read_the_drawn_effects(marginal_fit, frame, tmp_path):
    fit = marginal_fit
    assert "integrated out" in fit.stan_code and "z_" not in fit.stan_code.split("parameters {")[1].split("}")[0]
    post = fit.idata.posterior
    assert post["r_g"].shape == (2, 300, 15, 1) and np.isfinite(post["r_g"]).all()
    # training linear predictor: b, and each row's effects from the drawn r
    rows = frame.head(5)
    linpred = fit.predict(rows, kind="linpred").values
    by = lambda name, level: post[name].sel({name.removeprefix("r_"): str(level)}).values[..., 0]  # noqa: E731
    f_h = [f"{f}:{h}" for f, h in zip(rows.f, rows.h)]
    expected = np.stack([post["b"].sel(coef="Intercept").values + post["b"].sel(coef="x").values * x
                         + by("r_g", g) + by("r_f", f) + by("r_f:h", fh)
                         for x, g, f, fh in zip(rows.x, rows.g, rows.f, f_h)], axis=-1)
    np.testing.assert_allclose(linpred, expected, rtol=1e-9)
    # log-likelihood: the normal density of each row around it
    pointwise = fit.log_likelihood().values[..., :5]
    np.testing.assert_allclose(pointwise, stats.norm(expected, post["sigma"].values[..., None]).logpdf(rows.y.values),
                               rtol=1e-9)
    # a new level of g draws its effect from N(0, sd_g)
    new = rows.head(1).assign(g=999)  # no such level
    shift = (fit.predict(new, kind="linpred", seed=1).values - linpred[..., :1] + by("r_g", rows.g.iloc[0])[..., None])
    assert abs(float(shift.std() / np.sqrt((post["sd_g"].values ** 2).mean())) - 1) < 0.1
    # summaries and diagnostics cover the effects
    assert {"sd_g[Intercept]", "sigma"} <= set(fit.summary().index)
    assert len(fit.ranef()["g"]) == 15
    import arviz as az
    assert fit.diagnostics.min_ess_bulk <= float(az.ess(post["r_g"].to_dataset(), method="bulk")["r_g"].min())
    # save and load: the same program shape, draws and predictions
    fit.save(tmp_path / "fit")
    loaded = stanmer.load(tmp_path / "fit")
    assert loaded.stan_code == fit.stan_code
    np.testing.assert_array_equal(loaded.idata.posterior["r_g"].values, post["r_g"].values)
    np.testing.assert_allclose(loaded.predict(rows, kind="linpred").values, linpred)


def _terms_design(formula, frame, **options):
    return stanmer.design(formula, frame, **options)


@pytest.mark.parametrize(
    "formula, options",
    [
        ("y ~ x + (1 + x | g)", {}),  # slopes
        ("y ~ x + (1 | g) + (0 + x | h)", {}),
        ("y ~ x + (1 | g)", {"weights": "exposure"}),
        ("y | se(exposure) ~ x + (1 | g)", {}),
        ("y ~ x + (1 | g)", {"family": "student"}),
        ("y ~ x + (1 | g)", {"family": stanmer.family("gaussian", "log")}),
        ("y ~ 0 + x + (1 | g)", {}),
    ],
)
def test_other_models_keep_their_programs(frame, formula, options):
    design = _terms_design(formula, frame, **options)
    assert not uses_marginal(design)
    assert "integrated out" not in build_model(design).program


def test_binomial_keeps_the_per_row_program(frame):
    counts = frame.assign(k=(frame.y > 50).astype(int), n=1)
    design = stanmer.design("cbind(k, n - k) ~ x + (1 | g)", counts, family="binomial")
    assert not applies(design.spec) and "integrated out" not in build_model(design).program


def test_size_rule_keeps_large_dense_parts_on_the_other_programs():
    rng = np.random.default_rng(1)
    n = 6000
    many = MAX_DENSE_LEVELS + 20  # R: the smaller term, in the Cholesky
    frame = pd.DataFrame({"y": rng.normal(size=n), "a": rng.integers(0, 2 * many, n), "c": rng.integers(0, many, n)})
    design = stanmer.design("y ~ 1 + (1 | a) + (1 | c)", frame)
    assert applies(design.spec) and dense_levels(design) == len(design.spec.group_terms[1].levels) > MAX_DENSE_LEVELS
    program = build_model(design).program
    assert "integrated out" not in program and "sufficient statistics" in program
    small = stanmer.design("y ~ 1 + (1 | a) + (1 | c)", frame.assign(c=frame.c % 10))
    assert "integrated out" in build_model(small).program


def test_reference_model_reaches_ess_1000_at_default_settings():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "ifsc"))
    import ifsc_data

    formula = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"
    fit = stanmer.fit(formula, ifsc_data.load_wide(), seed=20251126, progress=False)
    assert "integrated out" in fit.stan_code
    assert fit.diagnostics.divergences == 0
    assert fit.diagnostics.min_ess_bulk >= 1000  # every quantity, the 48 effects included
