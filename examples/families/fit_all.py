"""Fits one model per family to simulated data and prints estimate vs truth.

    python examples/families/fit_all.py [model ...]   # all models, or the named ones
"""

import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from make_data import TRUTH
from models import MODELS

import stanmer

AUX_TRUTH = {"sigma": TRUTH["sigma"], "nu": TRUTH["nu"], "phi": TRUTH["phi"]}


def main() -> None:
    data = pd.read_csv(Path(__file__).resolve().parent / "families.csv")
    print(f"{'model':<18}{'b[x] (0.8)':>22}{'sd(g) (0.5)':>22}  family parameters")
    chosen = sys.argv[1:] or list(MODELS)
    for name, (formula, family, link) in ((name, MODELS[name]) for name in chosen):
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", stanmer.SamplingWarning)
            fit = stanmer.fit(formula, data, family=stanmer.family(family, link), seed=1, progress=False)
        table = fit.summary()
        shown = [*fit.spec.family.aux, *(f"b[{t}]" for t in fit.spec.intercepts if fit.spec.family.definition.ordinal)]
        aux = ", ".join(f"{a} {table.loc[a, 'mean']:.2f}" for a in shown)
        print(f"{name:<18}{_cell(table, 'b[x]'):>22}{_cell(table, 'sd_g[Intercept]'):>22}  {aux}"
              f"  ({time.perf_counter() - started:.1f} s)")
        for warning in caught:
            print(f"{'':<18}warning: {warning.message}")


def _cell(table: pd.DataFrame, name: str) -> str:
    row = table.loc[name]
    return f"{row['mean']:.2f} [{row['q2.5']:.2f}, {row['q97.5']:.2f}]"


if __name__ == "__main__":
    main()
