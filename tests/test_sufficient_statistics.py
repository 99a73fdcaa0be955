"""The Gaussian likelihood through sufficient statistics: the same log
density (up to a constant) as the per-row program at the same posterior point,
and chosen only where it applies and pays."""

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.codegen import generate
from stanmer.parametrisation import parametrise
from stanmer.standata import make_standata
from stanmer import ridges
from stanmer.sufficient_statistics import MIN_ROWS, applies, pays, statistics, uses_sufficient_statistics

from ridge_coordinates import random_values, ridge_free_values

stanli = pytest.importorskip("stanli")


@pytest.fixture(scope="module")
def crossed():
    """Unbalanced crossed and nested intercepts: every level pair pattern occurs."""
    rng = np.random.default_rng(7)
    n = 240
    g = rng.integers(0, 12, size=n)
    h = rng.choice(list("pqrstuv"), size=n, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.05, 0.05])
    x = rng.normal(size=n)
    effects_g, effects_h = rng.normal(size=12), dict(zip("pqrstuv", rng.normal(size=7)))
    y = 3 + 0.5 * x + effects_g[g] + np.array([effects_h[k] for k in h]) + rng.normal(scale=0.8, size=n)
    return pd.DataFrame({"y": y * 10 + 50, "x": x, "w": rng.normal(size=n), "cond": rng.choice(["a", "b", "c"], n),
                         "g": g, "h": h, "exposure": rng.uniform(0.5, 2, size=n)})


def _model(design, sufficient):
    code = generate(design.spec, sufficient_statistics=sufficient)
    data = make_standata(design) | (statistics(design) | ridges.data(ridges.term_blocks(design)) if sufficient else {})
    return stanli.Model(stan_code=code, data=data)


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + cond + (1 | g) + (1 | h)",
        "y ~ x + (1 | g) + (1 | h) + (1 | g:h)",
        "y ~ 1 + (1 | g)",
        "y ~ x + offset(np.log(exposure)) + (1 | h)",
    ],
)
@pytest.mark.parametrize("centred", [False, True], ids=["non-centred", "centred"])
def test_same_log_density_as_the_per_row_program(crossed, formula, centred):
    """At the same posterior point, read in each program's coordinates (the
    sufficient-statistics program samples without ridges, stanmer.ridges).
    Equal at every point, so equal gradients too."""
    design = parametrise(stanmer.design(formula, crossed), centred)
    plain, sufficient = _model(design, False), _model(design, True)
    rng = np.random.default_rng(3)
    lp_differences = []
    for _ in range(6):
        values = random_values(design.spec, rng)
        lp_plain = float(plain.log_prob_grad(plain.unconstrain(values))[0])
        point = sufficient.unconstrain(ridge_free_values(design, values))
        lp_sufficient, gradient = sufficient.log_prob_grad(point)
        assert len(gradient) == len(point) == len(plain.unconstrain(values))
        lp_differences.append(float(lp_sufficient) - lp_plain)
    # the dropped constant only: -N/2 log(2 pi) or nothing, the same at every point
    assert np.ptp(lp_differences) <= 1e-8 * abs(lp_plain)


def test_applies_to_unweighted_gaussian_identity_with_intercept_only_terms(crossed):
    assert applies(stanmer.design("y ~ x + (1 | g) + (1 | h)", crossed).spec)
    crossed = crossed.assign(k=(crossed.y > 50).astype(int))
    for formula, family, weights in [
        ("y ~ x + (1 + x | g)", "gaussian", None),  # a slope
        ("y ~ x + (1 | g)", stanmer.family("gaussian", "log"), None),
        ("k ~ x + (1 | g)", "bernoulli", None),
        ("y ~ x + (1 | g)", "gaussian", "exposure"),
        ("y ~ x", "gaussian", None),  # no group term: nothing to gain
    ]:
        assert not applies(stanmer.design(formula, crossed, family, weights=weights).spec), formula


def test_pays_only_when_levels_and_pairs_are_fewer_than_the_gathers_they_replace():
    rng = np.random.default_rng(1)
    n = 2 * MIN_ROWS
    repeated = pd.DataFrame({"y": rng.normal(size=n), "a": rng.integers(0, 50, n), "b": rng.integers(0, 40, n)})
    assert pays(stanmer.design("y ~ (1 | a) + (1 | b)", repeated))  # 90 levels + <= 2,000 pairs < 2 x 2,000
    # one row per level of each term: 2 x n levels and n pairs are more than the 2 x n gathers
    unique = repeated.assign(a=np.arange(n), b=rng.permutation(n))
    assert not pays(stanmer.design("y ~ (1 | a) + (1 | b)", unique))
    assert not pays(stanmer.design("y ~ (1 | a) + (1 | b)", repeated.iloc[: MIN_ROWS - 1]))  # overhead, not rows


def test_the_pipeline_emits_it_where_it_pays(monkeypatch):
    import stanmer.marginal

    monkeypatch.setattr(stanmer.marginal, "MAX_DENSE_LEVELS", -1)  # where the effects are not integrated out
    rng = np.random.default_rng(2)
    n = 3 * MIN_ROWS
    frame = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "g": rng.integers(0, 30, n)})
    assert uses_sufficient_statistics(stanmer.design("y ~ x + (1 | g)", frame))
    program = stanmer.stan_code("y ~ x + (1 | g)", frame)
    assert "real rss = " in program and "normal_id_glm" not in program
    data = stanmer.stan_data("y ~ x + (1 | g)", frame)
    assert data["n_1"].sum() == n and np.isclose(data["YcYc"], ((frame.y - frame.y.mean()) ** 2).sum())
    assert "normal_id_glm" in stanmer.stan_code("y ~ x + (1 | g)", frame.iloc[:100])


def test_stanc_accepts_the_program(tmp_path, monkeypatch):
    """stanli is not the only engine: pystan and CmdStan compile the program with stanc."""
    import subprocess
    from pathlib import Path

    import stanmer.marginal

    monkeypatch.setattr(stanmer.marginal, "MAX_DENSE_LEVELS", -1)  # where the effects are not integrated out
    httpstan = pytest.importorskip("httpstan", reason="stanc ships inside the httpstan wheel")
    rng = np.random.default_rng(4)
    n = 2 * MIN_ROWS
    frame = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "g": rng.integers(0, 30, n),
                          "h": rng.integers(0, 20, n)})
    path = tmp_path / "model.stan"
    path.write_text(stanmer.stan_code("y ~ x + (1 | g) + (1 | h)", frame))
    assert "real rss = " in path.read_text()
    stanc = Path(httpstan.__file__).parent / "stanc"
    result = subprocess.run([str(stanc), str(path), "--o", str(tmp_path / "model.hpp")], capture_output=True, text=True)
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr
