"""Centred or non-centred per group term: the rule chooses from the data,
`centered=` overrides it, and both forms are the same model."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.codegen import executable_text
from stanmer.errors import StanmerError
from stanmer.parametrisation import CenteringError, information_per_level, parametrise
from stanmer.pipeline import build_model

stanli = pytest.importorskip("stanli")

REFERENCE_FORMULA = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"


def _reference_frame() -> pd.DataFrame:
    path = Path(__file__).parents[1] / "examples" / "ifsc" / "ifsc_data.py"
    spec = importlib.util.spec_from_file_location("ifsc_data_for_parametrisation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_wide()


def _one_term(rows_per_level: int, levels: int = 50, seed: int = 1) -> pd.DataFrame:
    """y = 1 + 0.5 x + r[g] + e, sd(r) = 1, sigma = 2: information per level = rows / 4."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(levels), rows_per_level)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(0, 1, levels)[g] + rng.normal(0, 2, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})


def _slopes(groups: int = 30, rows: int = 8, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=g.size)
    a, s = rng.normal(0, 1, groups), rng.normal(0, 0.5, groups)
    return pd.DataFrame({"y": 1 + 0.5 * x + a[g] + s[g] * x + rng.normal(0, 1, g.size), "x": x, "g": g})


def _centred(design) -> list[bool]:
    return [term.centred for term in design.spec.group_terms]


# --- the rule -------------------------------------------------------------------


def test_the_rule_keeps_the_reference_model_non_centred():
    frame = _reference_frame()
    design = stanmer.design(REFERENCE_FORMULA, frame)
    # bench/findings.md (b): the moments estimate 4.1 (comp_id) and 2.8 (athlete_id)
    np.testing.assert_allclose(information_per_level(design), [4.1, 2.8], atol=0.05)
    decided = parametrise(design).spec.group_terms
    assert [term.centred for term in decided] == [False, False]
    assert decided[1].centring_reason == "2.8 rows' worth of information per level (< 10)"
    # by default its effects are integrated out (stanmer.marginal): nothing to parametrise
    assert "non-centred:" not in stanmer.stan_code(REFERENCE_FORMULA, frame)
    code = stanmer.stan_code(REFERENCE_FORMULA, frame, centered={"comp_id": False})
    assert "// non-centred: set by centered=" in code
    assert "// non-centred: 2.8 rows' worth of information per level (< 10)" in code
    assert "z_2" in code and "vector[J_2] r_2;" not in code


def test_the_rule_centres_a_data_rich_term():
    design = stanmer.design("y ~ x + (1 | g)", _one_term(100))
    assert information_per_level(design)[0] > 10  # true value 25
    assert _centred(parametrise(design)) == [True]
    # an intercept-only Gaussian term this small is integrated out by default; with a slope it is sampled
    code = stanmer.stan_code("y ~ x + (1 + x | g)", _one_term(100))
    assert "matrix[J_1, M_1] r_1;  // effects (centred), a row per level" in code
    assert "z_1" not in executable_text(code)
    assert "// centred: " in code and "over 50 levels" in code


def test_with_hundreds_of_levels_half_the_information_suffices():
    many = stanmer.design("y ~ x + (1 | g)", _one_term(28, levels=300))  # true information 7 per level
    assert 5 < information_per_level(many)[0] < 10
    (term,) = parametrise(many).spec.group_terms
    assert term.centred and "(>= 2.5 over 300 levels, which pin the sd)" in term.centring_reason
    fewer = stanmer.design("y ~ x + (1 | g)", _one_term(28, levels=50))
    assert 5 < information_per_level(fewer)[0] < 10
    (term,) = parametrise(fewer).spec.group_terms
    assert not term.centred and term.centring_reason.endswith("(< 10)")
    sparse = stanmer.design("y ~ x + (1 | g)", _one_term(4, levels=300))  # true information 1
    (term,) = parametrise(sparse).spec.group_terms
    assert not term.centred and term.centring_reason.endswith("(< 2.5 over 300 levels)")


def test_the_rule_guards_sparse_unidentified_and_few_level_terms():
    sparse = stanmer.design("y ~ x + (1 | g)", _one_term(2))
    assert _centred(parametrise(sparse)) == [False]
    one_row = stanmer.design("y ~ x + (1 | g)", _one_term(1, levels=200))
    assert information_per_level(one_row)[0] == 0  # sd and sigma not identified: no information claimed
    assert _centred(parametrise(one_row)) == [False]
    few_levels = stanmer.design("y ~ x + (1 | g)", _one_term(200, levels=8))
    assert information_per_level(few_levels)[0] > 10
    assert _centred(parametrise(few_levels)) == [False]
    assert "only 8 levels (< 20)" in parametrise(few_levels).spec.group_terms[0].centring_reason
    rich = stanmer.design("y ~ x + (1 | g)", _one_term(100))
    # the prior predictive has no data pinning the levels; the rule was measured for NUTS only
    assert _centred(parametrise(rich, prior_only=True)) == [False]
    assert _centred(parametrise(rich, sampling=False)) == [False]


def test_families_without_an_estimate_stay_non_centred():
    frame = _one_term(100).assign(k=lambda d: (d.y > 1).astype(int))
    design = stanmer.design("k ~ x + (1 | g)", frame, family="bernoulli")
    assert np.isnan(information_per_level(design)[0])
    decided = parametrise(design)
    assert _centred(decided) == [False]
    assert "no estimate" in decided.spec.group_terms[0].centring_reason


def test_a_correlated_term_is_decided_by_its_intercept_column():
    design = stanmer.design("y ~ x + (1 + x | g)", _slopes(groups=60, rows=40))
    assert _centred(parametrise(design)) == [True]
    code = build_model(design).program
    assert "matrix[J_1, M_1] r_1;  // effects (centred), a row per level" in code
    assert _centred(parametrise(stanmer.design("y ~ x + (1 + x | g)", _slopes(groups=60, rows=2)))) == [False]


# --- overrides ------------------------------------------------------------------


def test_centered_overrides_the_rule_globally_and_per_term():
    frame = _reference_frame()
    design = stanmer.design(REFERENCE_FORMULA, frame)
    assert _centred(parametrise(design, True)) == [True, True]
    assert _centred(parametrise(design, {"athlete_id": True})) == [False, True]
    assert _centred(parametrise(design, {"(1 | comp_id)": True})) == [True, False]
    rich = stanmer.design("y ~ x + (1 | g)", _one_term(100))
    assert _centred(parametrise(rich, False)) == [False]
    assert parametrise(rich, {"g": False}).spec.group_terms[0].centring_reason == "set by centered="
    assert "// centred: set by centered=" in stanmer.stan_code(REFERENCE_FORMULA, frame, centered=True)


def test_a_term_label_wins_over_its_factor():
    frame = _slopes().assign(w=lambda d: d.x**2)
    design = stanmer.design("y ~ x + (1 | g) + (0 + w | g)", frame)
    assert _centred(parametrise(design, {"g": True, "(0 + w | g)": False})) == [True, False]


@pytest.mark.parametrize(
    "centered, message",
    [
        ({"athlete": True}, "'athlete', which is no group term of this model; choose among: 'comp_id', 'athlete_id'"),
        ({"athlete_id": "yes"}, "centered['athlete_id'] must be True or False"),
        ("all", "centered must be None"),
    ],
)
def test_bad_centered_values_are_stanmer_errors_naming_the_choices(centered, message):
    with pytest.raises(CenteringError, match=message.replace("(", r"\(").replace("[", r"\[").replace(")", r"\)")) as caught:
        stanmer.stan_code(REFERENCE_FORMULA, _reference_frame(), centered=centered)
    assert isinstance(caught.value, StanmerError)


# --- the same model in both forms -------------------------------------------------

KINDS = {
    "intercept": ("y ~ x + (1 | g)", _one_term(6, levels=25)),
    "single": ("y ~ x + (0 + x | g)", _slopes()),
    "correlated": ("y ~ x + (1 + x | g)", _slopes()),
}


def _models(formula, frame, sufficient=False):
    design = stanmer.design(formula, frame)
    return [build_model(design, centered=centred) for centred in (False, True)]


@pytest.mark.parametrize("kind", KINDS)
def test_both_forms_have_the_same_log_density(kind):
    """log p_centred(r(z)) = log p_non-centred(z) - log |dr/dz|, exactly, at random points."""
    formula, frame = KINDS[kind]
    plain, centred = _models(formula, frame)
    spec = centred.design.spec
    assert spec.group_terms[0].kind.centred and not plain.design.spec.group_terms[0].kind.centred
    models = [stanli.Model(stan_code=executable_text(m.program), data=m.standata) for m in (plain, centred)]
    J, M = len(spec.group_terms[0].levels), len(spec.group_terms[0].coefficients)
    rng = np.random.default_rng(4)
    for _ in range(3):
        b, intercept, sigma = rng.normal(size=1), rng.normal(), rng.uniform(0.5, 2)
        sd = rng.uniform(0.3, 2, size=M)
        z = rng.normal(size=(M, J))
        values = {"b": b, "Intercept_c": intercept, "sigma": sigma}
        if M == 1:
            nc, c = dict(values, sd_1=sd[0], z_1=z[0]), dict(values, sd_1=sd[0], r_1=sd[0] * z[0])
            log_det = J * np.log(sd[0])
        else:
            L = np.linalg.cholesky(np.array([[1.0, 0.3], [0.3, 1.0]]))
            r = (np.diag(sd) @ L @ z).T
            nc, c = dict(values, sd_1=sd, z_1=z, L_1=L), dict(values, sd_1=sd, r_1=r, L_1=L)
            log_det = J * (np.sum(np.log(sd)) + np.sum(np.log(np.diag(L))))
        lp_nc, _ = models[0].log_prob_grad(models[0].unconstrain(nc))
        lp_c, _ = models[1].log_prob_grad(models[1].unconstrain(c))
        np.testing.assert_allclose(float(lp_c) + log_det, float(lp_nc), rtol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_both_forms_give_the_same_posterior(kind):
    formula, frame = KINDS[kind]
    settings = dict(chains=2, warmup=400, draws=400, seed=11, progress=False)
    fits = [stanmer.fit(formula, frame, centered=centred, **settings) for centred in (False, True)]
    assert ("z_1" in fits[0].stan_code) and ("z_1" not in executable_text(fits[1].stan_code))
    posteriors = [f.idata.posterior for f in fits]
    for name in ("b", "sd_g", "sigma"):
        a, c = (p[name].values.reshape(-1, *p[name].shape[2:]) for p in posteriors)
        se = np.sqrt(a.var(axis=0) / 150 + c.var(axis=0) / 150)  # MC error at >= 150 effective draws each
        assert np.all(np.abs(a.mean(axis=0) - c.mean(axis=0)) < 4 * se), name
    r_plain, r_centred = (p["r_g"].values.reshape(-1, *p["r_g"].shape[2:]) for p in posteriors)
    assert np.corrcoef(r_plain.mean(axis=0).ravel(), r_centred.mean(axis=0).ravel())[0, 1] > 0.98


def test_a_centred_programs_effects_in_the_results_are_its_r_draws():
    from stanmer.engines import get_engine
    from stanmer.results import to_inference_data
    from stanmer.sampling import SamplerOptions

    formula, frame = KINDS["correlated"]
    model = build_model(stanmer.design(formula, frame), centered=True)
    options = SamplerOptions(chains=1, warmup=30, draws=10, seed=3, show_progress=False)
    draws = get_engine("stanli").compile(model.executable, False, False).sample(model.standata, options)
    assert "z_1" not in draws.variables
    idata = to_inference_data(model.design.spec, draws, model.design.y)
    np.testing.assert_array_equal(idata.posterior["r_g"].values, draws.variables["r_1"])
    assert idata.posterior["r_g"].shape[2:] == (30, 2)


def test_a_saved_fit_keeps_its_parametrisation(tmp_path):
    formula, frame = KINDS["intercept"]
    fitted = stanmer.fit(formula, frame, centered={"g": True}, chains=1, warmup=200, draws=200, seed=1, progress=False)
    fitted.save(tmp_path / "fit")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rebuilt model that differs from the saved one warns
        loaded = stanmer.load(tmp_path / "fit")
    assert loaded.spec.group_terms[0].centred
    assert loaded.predict(frame.head(3)).shape[-1] == 3


# --- command line -----------------------------------------------------------------


def test_the_command_line_takes_centered(tmp_path, capsys):
    from stanmer.cli.main import main

    data = tmp_path / "rich.csv"
    _one_term(100).to_csv(data, index=False)
    programs = {}
    for choice in ("auto", "all", "none"):
        assert main(["code", "y ~ x + (1 + x | g)", "--data", str(data), "--centered", choice]) == 0
        programs[choice] = capsys.readouterr().out
    assert "// centred: " in programs["auto"] and "over 50 levels" in programs["auto"]
    assert "// centred: set by centered=" in programs["all"]
    assert "// non-centred: set by centered=" in programs["none"] and "z_1" in programs["none"]


def test_a_manifest_with_a_bad_centered_value_fails_before_any_fit(tmp_path, capsys):
    from stanmer.cli.main import main

    data = tmp_path / "rich.csv"
    _one_term(5).to_csv(data, index=False)
    manifest = tmp_path / "models.toml"
    manifest.write_text(
        f'[[models]]\nname = "m"\nformula = "y ~ x + (1 | g)"\ndata = "{data}"\ncentered = "sometimes"\n'
    )
    assert main(["batch", str(manifest), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "model 'm': centered must be one of auto, all, none, got 'sometimes'" in error
    assert not (tmp_path / "out").exists()


def test_inits_name_the_centred_effects():
    formula, frame = KINDS["intercept"]
    inits = {"sd_1": 1.0, "r_1": np.zeros(25), "sigma": 2.0, "b": [0.5], "Intercept_c": 1.0}
    fitted = stanmer.fit(formula, frame, centered=True, inits=inits, chains=1, warmup=50, draws=20, seed=2,
                         progress=False)
    assert fitted.idata.posterior["r_g"].shape == (1, 20, 25, 1)


@pytest.mark.parametrize("formula", ["y ~ x + (1 | g) + (0 + x | g)", "y ~ x + (1 + x | g)"])
def test_stanc_accepts_centred_programs(formula, tmp_path):
    """stanli is not the only engine: pystan and CmdStan compile the program with stanc."""
    import subprocess

    httpstan = pytest.importorskip("httpstan", reason="stanc ships inside the httpstan wheel")
    path = tmp_path / "model.stan"
    path.write_text(stanmer.stan_code(formula, _slopes(), centered=True))
    result = subprocess.run([str(Path(httpstan.__file__).parent / "stanc"), str(path), "--o", str(tmp_path / "m.hpp")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
