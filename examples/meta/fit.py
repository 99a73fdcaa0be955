"""Random-effects meta-analysis of the BCG vaccine trials (Colditz et al.
1994; metafor's dat.bcg): log risk ratios with known standard errors,
then absolute latitude as a moderator.

    python examples/meta/fit.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

import stanmer

MODELS = {
    "random effects": "yi | se(sei) ~ 1 + (1 | trial)",
    "latitude as moderator": "yi | se(sei) ~ 1 + ablat + (1 | trial)",
}


def main() -> None:
    data = pd.read_csv(Path(__file__).resolve().parent / "bcg.csv")
    for name, formula in MODELS.items():
        fit = stanmer.fit(formula, data, seed=1, adapt_delta=0.95, progress=False)
        table = fit.summary()
        print(f"\n{name}: {formula}")
        print(table.loc[[i for i in table.index if not i.startswith("r_")], ["mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk"]].round(3).to_string())
        if name == "random effects":
            risk_ratio = np.exp(fit.idata.posterior["b"].sel(coef="Intercept").values.ravel())
            low, high = np.quantile(risk_ratio, [0.025, 0.975])
            print(f"pooled risk ratio {np.median(risk_ratio):.2f} [{low:.2f}, {high:.2f}]")


if __name__ == "__main__":
    main()
