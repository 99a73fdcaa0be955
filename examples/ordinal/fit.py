"""Ordinal ratings: 286 subjects rated the instructions of an inhaler on a
scale from 1 to 4 in each period of a two-period crossover (brms's `inhaler`
data, Ezzet & Whitehead 1991), fitted with cumulative logit and probit models
and compared by PSIS-LOO.

    python examples/ordinal/fit.py
"""

from pathlib import Path

import pandas as pd

import stanmer

FORMULA = "rating ~ treat + period + carry + (1 | subject)"


def main() -> None:
    data = pd.read_csv(Path(__file__).resolve().parent / "inhaler.csv")
    # whole numbers: their sorted distinct values 1..4 are the categories
    print(data["rating"].value_counts().sort_index().to_string(), "\n")
    fits = {
        link: stanmer.fit(FORMULA, data, family=stanmer.family("cumulative", link), seed=1, progress=False)
        for link in ("logit", "probit")
    }
    table = fits["logit"].summary()
    print("cumulative logit")
    print(table[["mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk"]].round(3).to_string())
    new = pd.DataFrame({"treat": [-0.5, 0.5], "period": [0.0, 0.0], "carry": [0, 0], "subject": [0, 0]})
    probabilities = fits["logit"].predict(new, kind="mean", new_levels="zero").mean(("chain", "draw"))
    print("\nrating probabilities of a typical subject (a new one, at the population level)")
    print(probabilities.to_pandas().set_axis(new["treat"]).round(3).to_string())
    print("\nPSIS-LOO")
    print(stanmer.compare(fits)[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse"]].round(1).to_string())


if __name__ == "__main__":
    main()
