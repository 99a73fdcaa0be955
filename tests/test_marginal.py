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
