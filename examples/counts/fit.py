"""Zero-inflated and hurdle counts: articles published by 915 biochemistry
PhD students (Long 1990; pscl's bioChemists), with a Poisson, a negative
binomial, their zero-inflated and hurdle versions compared by PSIS-LOO.

    python examples/counts/fit.py
"""

from pathlib import Path

import pandas as pd

import stanmer

FORMULA = "art ~ fem + mar + kid5 + phd + ment"
FAMILIES = ("poisson", "negbinomial", "zero_inflated_poisson", "zero_inflated_negbinomial",
            "hurdle_poisson", "hurdle_negbinomial")


def main() -> None:
    data = pd.read_csv(Path(__file__).resolve().parent / "bioChemists.csv")
    print(f"{len(data)} students, {(data.art == 0).mean():.0%} with no article")
    fits = {}
    for family in FAMILIES:
        fits[family] = stanmer.fit(FORMULA, data, family=family, seed=1, progress=False)
    table = fits["zero_inflated_negbinomial"].summary()
    print("\nzero_inflated_negbinomial")
    print(table[["mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk"]].round(3).to_string())
    zeros = {family: float((fit.predict(kind="response", seed=1).values == 0).mean()) for family, fit in fits.items()}
    print("\nshare of zeros in posterior predictive draws (observed "
          f"{(data.art == 0).mean():.3f}):", {family: round(share, 3) for family, share in zeros.items()})
    print("\nPSIS-LOO")
    print(stanmer.compare(fits)[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse"]].round(1).to_string())


if __name__ == "__main__":
    main()
