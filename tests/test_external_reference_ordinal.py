"""Ordinal models (family cumulative, logit and probit) judged by brms on
its inhaler data (tests/reference/references_ordinal.json, made by
make_references_ordinal.R; no R needed here): with the same priors, every
posterior mean within 0.15 brms posterior sds of brms's and every posterior
sd within 15 %, thresholds b[Intercept[k]] included."""

import json
from pathlib import Path

import pandas as pd
import pytest
from test_external_reference_families import MEAN_TOLERANCE, SD_TOLERANCE, stanmer_name

import stanmer

REFERENCE = Path(__file__).resolve().parent / "reference"
REFERENCES = json.loads((REFERENCE / "references_ordinal.json").read_text())
MODELS = sorted(name for name in REFERENCES if name != "versions")


@pytest.mark.parametrize("name", MODELS)
def test_cumulative_matches_brms(name):
    reference = REFERENCES[name]
    data = pd.read_csv(REFERENCE / "data" / f"{reference['data']}.csv")
    priors = [
        stanmer.prior(row["prior"], row["class"], coef=row["coef"] or None, group=row["group"] or None)
        for row in reference["priors"]
    ]
    family = stanmer.family(reference["family"], reference["link"])
    fit = stanmer.fit(
        reference["formula"], data, family, priors, engine="stanli",
        chains=4, warmup=1000, draws=1500, seed=1, adapt_delta=0.95, progress=False,
    )
    table = fit.summary()
    far = []
    for brms_name, theirs in reference["posterior"].items():
        ours = table.loc[stanmer_name(brms_name)]
        z = (ours["mean"] - theirs["mean"]) / theirs["sd"]
        ratio = ours["sd"] / theirs["sd"]
        if abs(z) > MEAN_TOLERANCE or abs(ratio - 1) > SD_TOLERANCE:
            far.append(f"{brms_name}: mean {ours['mean']:.4g} vs brms {theirs['mean']:.4g} ({z:+.2f} sd), sd ratio {ratio:.3f}")
    assert not far, "\n".join(far)
