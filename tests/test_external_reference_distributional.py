"""Distributional regression judged by brms (tests/reference/references_distributional.json,
made by make_references_distributional.R; no R needed here): a Gaussian model with
a formula for sigma, fitted with the same priors, every posterior mean within
0.15 brms posterior sds of brms's and every posterior sd within 15 %."""

import json
from pathlib import Path

import pandas as pd
import pytest
from test_external_reference_families import MEAN_TOLERANCE, SD_TOLERANCE, stanmer_name

import stanmer

REFERENCE = Path(__file__).resolve().parent / "reference"
REFERENCES = json.loads((REFERENCE / "references_distributional.json").read_text())
MODELS = sorted(name for name in REFERENCES if name != "versions")


@pytest.mark.parametrize("name", MODELS)
def test_distributional_regression_matches_brms(name):
    reference = REFERENCES[name]
    data = pd.read_csv(REFERENCE / "data" / f"{reference['data']}.csv")
    priors = [
        stanmer.prior(
            row["prior"], row["class"], coef=row["coef"] or None, group=row["group"] or None, dpar=row["dpar"] or None
        )
        for row in reference["priors"]
    ]
    formula = stanmer.bf(reference["formula"], sigma=reference["sigma"])
    fit = stanmer.fit(
        formula, data, reference["family"], priors, engine="stanli",
        chains=4, warmup=1000, draws=1000, seed=1, adapt_delta=0.95, progress=False,
    )
    table = fit.summary()
    assert set(table.index) >= {stanmer_name(n) for n in reference["posterior"]}
    far = []
    for brms_name, theirs in reference["posterior"].items():
        ours = table.loc[stanmer_name(brms_name)]
        z = (ours["mean"] - theirs["mean"]) / theirs["sd"]
        ratio = ours["sd"] / theirs["sd"]
        if abs(z) > MEAN_TOLERANCE or abs(ratio - 1) > SD_TOLERANCE:
            far.append(f"{brms_name}: mean {ours['mean']:.4g} vs brms {theirs['mean']:.4g} ({z:+.2f} sd), sd ratio {ratio:.3f}")
    assert not far, "\n".join(far)
