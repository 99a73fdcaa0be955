"""Distributional regression judged by brms (tests/reference/references_distributional.json,
made by make_references_distributional.R; no R needed here): a Gaussian model with
a formula for sigma, fitted with the same priors, every posterior mean within
0.15 brms posterior sds of brms's and every posterior sd within 15 %."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import stanmer

REFERENCE = Path(__file__).resolve().parent / "reference"
sys.path.insert(0, str(REFERENCE))

from brms_gaps import gaps_beyond_tolerance, reference_priors, stanmer_name  # noqa: E402

REFERENCES = json.loads((REFERENCE / "references_distributional.json").read_text())
MODELS = sorted(name for name in REFERENCES if name != "versions")


@pytest.mark.parametrize("name", MODELS)
def test_distributional_regression_matches_brms(name):
    reference = REFERENCES[name]
    data = pd.read_csv(REFERENCE / "data" / f"{reference['data']}.csv")
    formula = stanmer.bf(reference["formula"], sigma=reference["sigma"])
    fit = stanmer.fit(
        formula, data, reference["family"], reference_priors(reference), engine="stanli",
        chains=4, warmup=1000, draws=1000, seed=1, adapt_delta=0.95, progress=False,
    )
    table = fit.summary()
    assert set(table.index) >= {stanmer_name(n) for n in reference["posterior"]}
    far = gaps_beyond_tolerance(table, reference["posterior"])
    assert not far, "\n".join(far)
