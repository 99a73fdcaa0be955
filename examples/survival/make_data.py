"""Writes `survival.csv`: simulated times to an event for 400 patients in 20
centres, Weibull with mean exp(eta), eta = 2 - 0.5 treated + 0.02 (age - 60)
+ u[centre], u ~ normal(0, 0.3), shape 1.5. Follow-up ends at 12 (months):
later events are right-censored at the patient's end of follow-up."""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

TRUTH = {"Intercept": 2.0, "treated": -0.5, "age": 0.02, "sd_centre": 0.3, "shape": 1.5}


def simulate(rng: np.random.Generator, n: int = 400, centres: int = 20) -> pd.DataFrame:
    centre = rng.integers(1, centres + 1, n)
    treated = rng.integers(0, 2, n)
    age = np.round(rng.normal(60, 10, n))
    eta = (TRUTH["Intercept"] + TRUTH["treated"] * treated + TRUTH["age"] * (age - 60)
           + rng.normal(0, TRUTH["sd_centre"], centres)[centre - 1])
    shape = TRUTH["shape"]
    time = np.exp(eta) / special.gamma(1 + 1 / shape) * rng.weibull(shape, n)
    follow_up = rng.uniform(6, 12, n)  # patients enrolled over time: each has their own end of follow-up
    observed = time <= follow_up
    return pd.DataFrame({
        "centre": centre,
        "treated": treated,
        "age": age,
        "time": np.round(np.where(observed, time, follow_up), 3),
        "censored": np.where(observed, "none", "right"),
    })


if __name__ == "__main__":
    simulate(np.random.default_rng(2026)).to_csv(Path(__file__).resolve().parent / "survival.csv", index=False)
