"""stanmer judged by references made outside it: brms posteriors and lme4
estimates on lme4's own datasets (tests/reference/, made by
make_references.R; no R needed here).

With the priors the brms fit used, stanmer's posterior means must lie within
0.15 brms posterior sds of brms's and its posterior sds within 15 %, for every
fixed effect, group sd, correlation and sigma. Where the reference used
flat-ish priors, the fixed effects must also lie within 0.35 lme4 standard
errors of lme4's REML estimates. `python tests/reference/table.py` prints the
gaps as a table (`pytest -rP` shows one row per model).
"""

import sys
from pathlib import Path

import pytest

import stanmer

sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))

import external  # noqa: E402
from brms_gaps import MEAN_TOLERANCE, SD_TOLERANCE  # noqa: E402

LME4_TOLERANCE = 0.35  # lme4 standard errors

MODELS = external.all_models()
LME4_MODELS = [(name, syntax) for name, syntax in MODELS if external.REFERENCES[name]["compare_lme4"]]
DEFAULT_PRIOR_MODELS = [(name, syntax) for name, syntax in MODELS if not external.REFERENCES[name]["compare_lme4"]]
PYSTAN_MODELS = [("sleepstudy_slopes", "plain"), ("penicillin_crossed", "plain")]


def _ids(pairs):
    return [f"{name}-{syntax}" for name, syntax in pairs]


def assert_matches_brms(name, fitted):
    gaps = external.gaps_to_brms(name, fitted)
    far = [
        f"{g.parameter}: mean {g.stanmer_mean:.4g} vs brms {g.brms_mean:.4g} ({g.z:+.2f} sd), "
        f"sd {g.stanmer_sd:.4g} vs {g.brms_sd:.4g} (ratio {g.sd_ratio:.3f})"
        for g in gaps
        if abs(g.z) > MEAN_TOLERANCE or abs(g.sd_ratio - 1) > SD_TOLERANCE
    ]
    assert not far, "\n".join(far)


@pytest.mark.parametrize("name, syntax", DEFAULT_PRIOR_MODELS, ids=_ids(DEFAULT_PRIOR_MODELS))
def test_reference_priors_are_stanmers_defaults(name, syntax):
    """The brms references used stanmer's default priors; if the defaults
    move, the references must be remade (make_references.R) to stay the
    defaults' judge."""
    spec = external.stanmer_spec(name, syntax)
    defaults = stanmer.design(
        spec["formula"], external.load_data(name), external.REFERENCES[name]["family"], weights=spec.get("weights")
    ).spec.priors
    recorded = external.reference_priors(name)
    key = lambda p: (p.cls, p.coef or "", p.group or "")  # noqa: E731
    assert sorted(map(key, defaults)) == sorted(map(key, recorded))
    by_key = {key(p): p for p in recorded}
    for p in defaults:
        ref = by_key[key(p)]
        assert p.distribution == ref.distribution, key(p)
        assert p.args == pytest.approx(ref.args, rel=1e-5, abs=1e-6), (key(p), p.args, ref.args)


@pytest.mark.parametrize("name, syntax", MODELS, ids=_ids(MODELS))
def test_posterior_matches_brms(name, syntax):
    fitted = external.fit(name, syntax)
    print(external.markdown([external.table_row(name, syntax, fitted, "stanli")]))  # shown with -s or -rP
    assert_matches_brms(name, fitted)


@pytest.mark.parametrize("name, syntax", LME4_MODELS, ids=_ids(LME4_MODELS))
def test_fixed_effects_match_lme4_under_flat_priors(name, syntax):
    gaps = external.gaps_to_lme4(name, external.fit(name, syntax))
    assert max(gaps.values()) <= LME4_TOLERANCE, gaps


@pytest.mark.pystan
@pytest.mark.parametrize("name, syntax", PYSTAN_MODELS, ids=_ids(PYSTAN_MODELS))
def test_posterior_matches_brms_on_pystan(name, syntax):
    assert_matches_brms(name, external.fit(name, syntax, engine="pystan"))

