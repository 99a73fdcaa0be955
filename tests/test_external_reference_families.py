"""stanmer's new families judged by brms (tests/reference/references_families.json,
made by make_references_families.R; no R needed here): with the same
priors, every posterior mean within 0.15 brms posterior sds of brms's and
every posterior sd within 15 %."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import stanmer

REFERENCE = Path(__file__).resolve().parent / "reference"
REFERENCES = json.loads((REFERENCE / "references_families.json").read_text())
MODELS = sorted(name for name in REFERENCES if name != "versions")
MEAN_TOLERANCE = 0.15  # brms posterior sds
SD_TOLERANCE = 0.15  # relative


def stanmer_name(brms_name: str) -> str:
    """brms's b_x, sd_g__Intercept, zi as stanmer names them: b[x], sd_g[Intercept], zi."""
    if match := re.match(r"^b_(.+)$", brms_name):
        return f"b[{match.group(1)}]"
    if match := re.match(r"^sd_(.+?)__(.+)$", brms_name):
        return f"sd_{match.group(1)}[{match.group(2)}]"
    return brms_name


@pytest.mark.parametrize("name", MODELS)
def test_new_families_match_brms(name):
    reference = REFERENCES[name]
    data = pd.read_csv(REFERENCE / "data" / f"{reference['data']}.csv")
    priors = [
        stanmer.prior(row["prior"], row["class"], coef=row["coef"] or None, group=row["group"] or None)
        for row in reference["priors"]
    ]
    fit = stanmer.fit(
        reference["formula"], data, reference["family"], priors, engine="stanli",
        chains=4, warmup=1000, draws=1000, seed=1, adapt_delta=0.95, progress=False,
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
