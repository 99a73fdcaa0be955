"""A Poisson GLMM with exposure as an offset: claims per policy-year.

    python examples/glmm/poisson_offset.py
"""

from pathlib import Path

import pandas as pd

import stanmer

FORMULA = "claims ~ urban + scale(year) + offset(np.log(exposure)) + (1 | district)"


def main() -> None:
    claims = pd.read_csv(Path(__file__).resolve().parent / "claims.csv")
    fit = stanmer.fit(FORMULA, claims, family="poisson", seed=1, progress=False)
    print(fit)
    print("\nsimulated with: urban 0.5, 0.08 per year (0.113 per sd of year); sd(district) 0.4")


if __name__ == "__main__":
    main()
