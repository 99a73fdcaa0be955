"""Right-censored survival times: Weibull and exponential models with a
centre effect, and the mean survival time predicted per arm.

    python examples/survival/fit.py
"""

from pathlib import Path

import pandas as pd
from make_data import TRUTH

import stanmer

FORMULA = "time | cens(censored) ~ treated + age + (1 | centre)"


def main() -> None:
    data = pd.read_csv(Path(__file__).resolve().parent / "survival.csv")
    print(f"{(data.censored == 'right').sum()} of {len(data)} times are right-censored (follow-up ended first)")
    fits = {}
    for family in ("weibull", "exponential"):
        fit = fits[family] = stanmer.fit(FORMULA, data, family=family, seed=1, progress=False)
        print(f"\n{family}")
        print(fit.summary()[["mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk"]].round(3).to_string())
        arms = pd.DataFrame({"treated": [0, 1], "age": [60, 60], "centre": [0, 0]})
        mean = fit.predict_summary(arms, kind="mean", re_formula="~0")
        print("mean survival time at age 60, control vs treated:", mean["mean"].round(2).tolist())
    print(f"\ntruth: {TRUTH}")
    print("\nPSIS-LOO (the censored rows enter through their survival probability):")
    print(stanmer.compare(fits)[["rank", "elpd_loo", "elpd_diff", "dse"]].round(1).to_string())


if __name__ == "__main__":
    main()
