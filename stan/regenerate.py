"""The example models whose generated programs are checked in here.

Run `python stan/regenerate.py` after a deliberate change to code generation
and commit the diff; tests/test_codegen.py fails while any file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "ifsc"))
sys.path.insert(0, str(ROOT / "examples" / "families"))

import ifsc_data  # noqa: E402
from models import MODELS as FAMILY_MODELS  # noqa: E402

import stanmer  # noqa: E402


def _csv(relative: str) -> Callable[[], pd.DataFrame]:
    return lambda: pd.read_csv(ROOT / "examples" / relative)


# name -> (formula, data loader, family)
EXAMPLES: dict[str, tuple[str | stanmer.ModelFormula, Callable[[], pd.DataFrame], stanmer.Family | str]] = {
    "ifsc_fit_a": (
        "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)",
        ifsc_data.load_wide,
        "gaussian",
    ),
    "ifsc_fit_b": (
        "score_final ~ 1 + score_semi + score_quali + (1 | event_name:gender) + (1 | athlete_name)",
        lambda: ifsc_data.train_test()[0],
        "gaussian",
    ),
    "ifsc_slopes": (
        "score_final ~ score_semi + score_quali + (1 | comp_id) + (1 + score_semi | athlete_id)",
        ifsc_data.load_wide,
        "gaussian",
    ),
    # InstEval (lme4's export, bench/data): large enough that the Gaussian
    # likelihood goes through sufficient statistics
    "insteval": (
        "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)",
        lambda: pd.read_csv(ROOT / "bench" / "data" / "InstEval.csv.gz"),
        "gaussian",
    ),
    "glmm_binomial_cbind": (
        "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)",
        _csv("glmm/herds.csv"),
        "binomial",
    ),
    "glmm_poisson_offset": (
        "claims ~ urban + scale(year) + offset(np.log(exposure)) + (1 | district)",
        _csv("glmm/claims.csv"),
        "poisson",
    ),
    "survival_weibull_cens": (
        "time | cens(censored) ~ treated + age + (1 | centre)",
        _csv("survival/survival.csv"),
        "weibull",
    ),
    "meta_bcg_se": ("yi | se(sei) ~ 1 + (1 | trial)", _csv("meta/bcg.csv"), "gaussian"),
    "distributional_sigma": (
        stanmer.bf("y ~ dose + (1 | lab)", sigma="~ dose + (1 | lab)"),
        _csv("distributional/assays.csv"),
        "gaussian",
    ),
    **{
        f"family_{name}": (formula, _csv("families/families.csv"), stanmer.family(family, link))
        for name, (formula, family, link) in FAMILY_MODELS.items()
    },
}


def program(name: str) -> str:
    formula, load, family = EXAMPLES[name]
    return stanmer.stan_code(formula, load(), family)


def main() -> None:
    for name in EXAMPLES:
        path = ROOT / "stan" / f"{name}.stan"
        path.write_text(program(name))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
