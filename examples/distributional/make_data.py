"""Writes `assays.csv`: simulated measurements of 400 samples in 20 labs at
doses 0..4, heteroscedastic in both dose and lab:

    y     ~ normal(mu, sigma)
    mu    = 2 + 0.8 dose + u[lab],                 u ~ normal(0, 0.5)
    sigma = exp(-1.1 + 0.3 dose + v[lab]),         v ~ normal(0, 0.3)

so the noise grows with the dose and some labs measure more precisely than others."""

from pathlib import Path

import numpy as np
import pandas as pd

TRUTH = {
    "Intercept": 2.0, "dose": 0.8, "sd_lab": 0.5,
    "sigma_Intercept": -1.1, "sigma_dose": 0.3, "sd_lab_sigma": 0.3,
}


def simulate(rng: np.random.Generator, n: int = 400, labs: int = 20) -> pd.DataFrame:
    lab = np.repeat(np.arange(1, labs + 1), n // labs)
    dose = rng.integers(0, 5, n)
    u = rng.normal(0, TRUTH["sd_lab"], labs)
    v = rng.normal(0, TRUTH["sd_lab_sigma"], labs)
    mu = TRUTH["Intercept"] + TRUTH["dose"] * dose + u[lab - 1]
    sigma = np.exp(TRUTH["sigma_Intercept"] + TRUTH["sigma_dose"] * dose + v[lab - 1])
    return pd.DataFrame({"lab": lab, "dose": dose, "y": np.round(rng.normal(mu, sigma), 4)})


if __name__ == "__main__":
    simulate(np.random.default_rng(2026)).to_csv(Path(__file__).resolve().parent / "assays.csv", index=False)
