"""A binomial GLMM written as in lme4: cbind(successes, failures).

    python examples/glmm/binomial_cbind.py
"""

from pathlib import Path

import pandas as pd

import stanmer

FORMULA = "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)"


def main() -> None:
    herds = pd.read_csv(Path(__file__).resolve().parent / "herds.csv")
    fit = stanmer.fit(FORMULA, herds, family="binomial", seed=1, progress=False)
    print(fit)
    print("\nsimulated with: Intercept -1.4, periods 2-4: -1.0, -1.2, -1.8; sd(herd) 0.6")


if __name__ == "__main__":
    main()
