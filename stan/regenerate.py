"""The example models whose generated programs are checked in here.

Run `python stan/regenerate.py` after a deliberate change to code generation
and commit the diff; tests/test_golden.py fails while any file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "ifsc"))

import ifsc_data  # noqa: E402

import stanmer  # noqa: E402

# name -> (formula, data loader, family)
EXAMPLES: dict[str, tuple[str, Callable[[], pd.DataFrame], str]] = {
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
