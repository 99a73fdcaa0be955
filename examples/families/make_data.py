"""Writes `families.csv`: one simulated data set with a response for every
family stanmer fits, all from one linear predictor
eta = 0.3 + 0.8 x + u[g], u ~ normal(0, 0.5), 30 groups (fixed seed)."""

from pathlib import Path

import numpy as np
from scipy import special
import pandas as pd

TRUTH = {"Intercept": 0.3, "x": 0.8, "sd_g": 0.5, "sigma": 0.7, "nu": 5.0, "shape_nb": 3.0, "shape_gamma": 4.0, "phi": 20.0, "shape_weibull": 1.5, "zi": 0.3, "hu": 0.25, "thresholds": (-1.0, 0.2, 1.4)}


def simulate(rng: np.random.Generator, n: int = 600, groups: int = 30) -> pd.DataFrame:
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n)
    eta = TRUTH["Intercept"] + TRUTH["x"] * x + rng.normal(scale=TRUTH["sd_g"], size=groups)[g]
    p = 1 / (1 + np.exp(-eta))
    trials = rng.integers(1, 12, n)
    exposure = rng.uniform(0.5, 3, n)
    df = pd.DataFrame({"g": g, "x": x, "trials": trials, "exposure": exposure})
    df["y_gaussian"] = eta + rng.normal(scale=TRUTH["sigma"], size=n)
    df["y_gaussian_log"] = np.exp(eta) + rng.normal(scale=TRUTH["sigma"], size=n)
    df["y_student"] = eta + TRUTH["sigma"] * rng.standard_t(TRUTH["nu"], size=n)
    df["y_lognormal"] = np.exp(eta + rng.normal(scale=TRUTH["sigma"], size=n))
    df["y_bernoulli"] = rng.binomial(1, p)
    df["y_successes"] = rng.binomial(trials, p)
    df["y_poisson"] = rng.poisson(np.exp(eta) * exposure)
    df["y_negbinomial"] = rng.poisson(rng.gamma(TRUTH["shape_nb"], np.exp(eta) / TRUTH["shape_nb"]))
    df["y_gamma"] = rng.gamma(TRUTH["shape_gamma"], np.exp(eta) / TRUTH["shape_gamma"])
    df["y_beta"] = rng.beta(p * TRUTH["phi"], (1 - p) * TRUTH["phi"])
    # survival times with mean exp(eta); drawn last so the columns above keep their values
    df["y_exponential"] = rng.exponential(np.exp(eta))
    shape = TRUTH["shape_weibull"]
    df["y_weibull"] = np.exp(eta) / special.gamma(1 + 1 / shape) * rng.weibull(shape, n)
    # zero-inflated and hurdle counts, and a semicontinuous amount
    extra_zero, hurdle_zero = rng.random(n) < TRUTH["zi"], rng.random(n) < TRUTH["hu"]
    def negbinomial():  # a gamma-Poisson mixture, the mixing drawn afresh each time
        return rng.poisson(rng.gamma(TRUTH["shape_nb"], np.exp(eta) / TRUTH["shape_nb"]))

    df["y_zero_inflated_poisson"] = np.where(extra_zero, 0, rng.poisson(np.exp(eta)))
    df["y_zero_inflated_negbinomial"] = np.where(extra_zero, 0, negbinomial())
    df["y_hurdle_poisson"] = np.where(hurdle_zero, 0, _above_zero(lambda: rng.poisson(np.exp(eta))))
    df["y_hurdle_negbinomial"] = np.where(hurdle_zero, 0, _above_zero(negbinomial))
    df["y_hurdle_lognormal"] = np.where(hurdle_zero, 0.0, np.exp(eta + rng.normal(scale=TRUTH["sigma"], size=n)))
    # an ordinal response: the latent eta + logistic noise cut at the thresholds, categories 1..4
    df["y_cumulative"] = 1 + (eta[:, None] + rng.logistic(size=n)[:, None] > np.array(TRUTH["thresholds"])).sum(axis=1)
    return df


def _above_zero(draw):
    """Counts from `draw`, each zero redrawn (the whole draw) until positive: a zero-truncated count."""
    counts = draw()
    while (counts == 0).any():
        counts = np.where(counts == 0, draw(), counts)
    return counts


if __name__ == "__main__":
    simulate(np.random.default_rng(7)).to_csv(Path(__file__).resolve().parent / "families.csv", index=False)
