"""Distributional regression: lab assays whose noise grows with the dose and
differs between labs (simulated by make_data.py). The same mean model with a
constant sigma and with sigma ~ dose + (1 | lab), compared by PSIS-LOO.

    python examples/distributional/fit.py
"""

from pathlib import Path

import pandas as pd

import stanmer

MEAN = "y ~ dose + (1 | lab)"


def main() -> None:
    data = pd.read_csv(Path(__file__).resolve().parent / "assays.csv")
    print(f"{len(data)} assays in {data.lab.nunique()} labs; sd of y by dose:",
          data.groupby("dose").y.std().round(2).to_dict())
    fits = {
        "constant sigma": stanmer.fit(MEAN, data, seed=1, progress=False),
        "sigma ~ dose + (1 | lab)": stanmer.fit(stanmer.bf(MEAN, sigma="~ dose + (1 | lab)"), data, seed=1, progress=False),
    }
    print()
    print(fits["sigma ~ dose + (1 | lab)"].report())
    new = pd.DataFrame({"dose": [0, 4, 4], "lab": [1, 1, 99]})
    spread = fits["sigma ~ dose + (1 | lab)"].predict_summary(new, kind="response", seed=1)
    print("\npredictive sd at dose 0 and 4 in lab 1, and at dose 4 in a new lab (99):", spread["sd"].round(2).tolist())
    print("\nPSIS-LOO")
    print(stanmer.compare(fits)[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse"]].round(1).to_string())


if __name__ == "__main__":
    main()
