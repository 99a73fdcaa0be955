"""Ordinal models (family cumulative, logit and probit) judged by brms on
its inhaler data (tests/reference/references_ordinal.json, made by
make_references_ordinal.R; no R needed here): with the same priors, every
posterior mean within 0.15 brms posterior sds of brms's and every posterior
sd within 15 %, thresholds b[Intercept[k]] included."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import stanmer

REFERENCE = Path(__file__).resolve().parent / "reference"
sys.path.insert(0, str(REFERENCE))

from brms_gaps import gaps_beyond_tolerance, reference_priors  # noqa: E402

REFERENCES = json.loads((REFERENCE / "references_ordinal.json").read_text())
MODELS = sorted(name for name in REFERENCES if name != "versions")


@pytest.mark.parametrize("name", MODELS)
def test_cumulative_matches_brms(name):
    reference = REFERENCES[name]
    data = pd.read_csv(REFERENCE / "data" / f"{reference['data']}.csv")
    family = stanmer.family(reference["family"], reference["link"])
    fit = stanmer.fit(
        reference["formula"], data, family, reference_priors(reference), engine="stanli",
        chains=4, warmup=1000, draws=1500, seed=1, adapt_delta=0.95, progress=False,
    )
    far = gaps_beyond_tolerance(fit.summary(), reference["posterior"])
    assert not far, "\n".join(far)
