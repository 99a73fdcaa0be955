"""Writes the two simulated data sets of this example (fixed seed, so the CSVs
in this folder are reproducible): `herds.csv`, cattle disease incidence per
herd and period (in the spirit of lme4's cbpp), and `claims.csv`, insurance
claims per district and year with the policy-years at risk as exposure."""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def herds(rng: np.random.Generator) -> pd.DataFrame:
    n_herds, periods = 15, 4
    herd_effect = rng.normal(scale=0.6, size=n_herds)
    period_effect = np.array([0.0, -1.0, -1.2, -1.8])
    rows = []
    for h in range(n_herds):
        for p in range(periods):
            size = int(rng.integers(5, 30))
            prob = 1 / (1 + np.exp(-(-1.4 + period_effect[p] + herd_effect[h])))
            incidence = int(rng.binomial(size, prob))
            rows.append({"herd": f"H{h + 1:02d}", "period": p + 1, "size": size, "incidence": incidence})
    return pd.DataFrame(rows)


def claims(rng: np.random.Generator) -> pd.DataFrame:
    districts, years = 20, 5
    district_effect = rng.normal(scale=0.4, size=districts)
    rows = []
    for d in range(districts):
        urban = int(d % 3 == 0)
        for year in range(2020, 2020 + years):
            exposure = float(np.round(rng.uniform(50, 400), 1))
            rate = np.exp(-2.5 + 0.5 * urban + 0.08 * (year - 2020) + district_effect[d])
            rows.append({
                "district": f"D{d + 1:02d}", "urban": urban, "year": year,
                "exposure": exposure, "claims": int(rng.poisson(rate * exposure)),
            })
    return pd.DataFrame(rows)


if __name__ == "__main__":
    rng = np.random.default_rng(2025)
    herds(rng).to_csv(HERE / "herds.csv", index=False)
    claims(rng).to_csv(HERE / "claims.csv", index=False)
