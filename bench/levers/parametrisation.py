"""Lever: centred or non-centred parametrisation, chosen per group term.

    python bench/levers/parametrisation.py reference    # every per-term combination, 4 x 1000
    python bench/levers/parametrisation.py simulated    # sparse to data-rich single-term models

For each fit: min bulk ESS over every parameter (b, Intercept_c, sd_t, r_t,
sigma -- the effects r_t, not z_t, so centred and non-centred compare on the
same quantities), ESS per second of sampling, divergences; and what the
data-driven rule (`rule`) would have chosen.
"""

from __future__ import annotations

import argparse
import itertools
import re
import time

import numpy as np
import pandas as pd
import stanli

import common
import stanmer


def centre(code: str, terms: set[int]) -> str:
    """The generated intercept-only program with the terms in `terms` centred:
    r_t is the parameter, r_t ~ normal(0, sd_t); the others stay r_t = sd_t * z_t."""
    for t in terms:
        code = re.sub(rf"  vector\[J_{t}\] z_{t};  // standardised effects",
                      f"  vector[J_{t}] r_{t};  // effects (centred)", code)
        code = re.sub(rf"  vector\[J_{t}\] r_{t} = sd_{t} \* z_{t};.*\n", "", code)
        code = code.replace(f"target += std_normal_lpdf(z_{t});", f"target += normal_lpdf(r_{t} | 0, sd_{t});")
    return code


def moment_estimates(data: dict) -> tuple[np.ndarray, float]:
    """Group sds and residual sd by moments, from the residuals of least squares
    on the population-level columns: for each term, the spread of its level
    means beyond what the within-level noise explains. No sampling, no
    optimisation; O(N) per term."""
    X = np.column_stack([np.ones(data["N"]), np.asarray(data["X"]).reshape(data["N"], -1)])
    y = np.asarray(data["Y"], dtype=float)
    residual = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    T = sum(1 for key in data if re.fullmatch(r"J_\d+", key))
    sds = []
    for t in range(1, T + 1):
        g = np.asarray(data[f"g_{t}"]) - 1
        n = np.bincount(g, minlength=data[f"J_{t}"]).astype(float)
        seen = n > 0
        sums = np.bincount(g, weights=residual, minlength=data[f"J_{t}"])
        means = sums[seen] / n[seen]
        # within-level spread needs levels with two rows or more; with (almost)
        # none, the split between sd_t and sigma is not identified by moments,
        # and the term is treated as carrying no information (non-centred)
        df = int(np.sum(n[seen] - 1))
        if df < max(10, 0.1 * data["N"]):
            sds.append(0.0)
            continue
        within = np.sum((residual - (sums / np.maximum(n, 1))[g]) ** 2) / df
        between = np.var(means, ddof=1) if seen.sum() > 1 else 0.0
        sds.append(np.sqrt(max(between - within * np.mean(1 / n[seen]), 0.0)))
    sigma2 = max(np.var(residual) - np.sum(np.square(sds)), np.var(residual) * 0.05)
    return np.array(sds), float(np.sqrt(sigma2))


def information_per_level(data: dict) -> np.ndarray:
    """Per term: the median level's rows x sd_t^2 / sigma^2 -- how far the data
    pin a level's effect relative to the prior the sd sets. Above 1 the
    likelihood dominates and the centred form samples better."""
    sds, sigma = moment_estimates(data)
    info = []
    for t, sd in enumerate(sds, start=1):
        n = np.bincount(np.asarray(data[f"g_{t}"]) - 1, minlength=data[f"J_{t}"])
        info.append(np.median(n[n > 0]) * sd ** 2 / sigma ** 2)
    return np.array(info)


def rule(data: dict, threshold: float = 10.0, min_levels: int = 20) -> set[int]:
    """Centre a term when its levels are data-rich and it has enough levels
    for its sd to stay away from zero; the reference model shows both matter."""
    info = information_per_level(data)
    return {t for t, i in enumerate(info, start=1) if i >= threshold and data[f"J_{t}"] >= min_levels}


def run(code: str, data: dict, seed: int, warmup: int, draws: int) -> dict:
    model = stanli.Model(stan_code=code, data=data)
    started, cpu = time.perf_counter(), common.cpu_seconds()
    fit = model.sample(chains=4, seed=seed, warmup=warmup, samples=draws, refresh=0)
    wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
    import arviz as az

    ess = az.ess(fit.to_arviz(), method="bulk")
    keep = [v for v in ess.data_vars if not re.fullmatch(r"z_\d+", v)]
    per = {v: float(np.min(ess[v].values)) for v in keep}
    worst = min(per, key=per.get)
    return {"wall": wall, "cpu": cpu, "min_ess": per[worst], "worst": worst, "ess_s": per[worst] / cpu,
            "steps": float(np.mean(fit["n_leapfrog__"])),
            "div": int(fit.divergences.sum()), "load": common.loadavg()}


def reference(seeds: list[int]) -> None:
    frame = common.reference_data()
    code, data = stanmer.stan_code(common.REFERENCE_FORMULA, frame), stanmer.stan_data(common.REFERENCE_FORMULA, frame)
    info = information_per_level(data)
    print(f"reference model; information per level (comp_id, athlete_id) = {np.round(info, 2)}; "
          f"rule centres {sorted(rule(data)) or 'none'}")
    print(f"{'centred terms':<15}{'seed':>5}{'wall s':>7}{'CPU s':>6}{'steps':>6}{'min ESS':>8}{'worst':>14}"
          f"{'ESS/CPU-s':>10}{'div':>4}{'load':>6}")
    for terms in [(), (1,), (2,), (1, 2)]:
        for seed in seeds:
            r = run(centre(code, set(terms)), data, seed, 1000, 1000)
            label = ",".join(map(str, terms)) or "none"
            print(f"{label:<15}{seed:>5}{r['wall']:>7.2f}{r['cpu']:>6.2f}{r['steps']:>6.1f}{r['min_ess']:>8.0f}"
                  f"{r['worst']:>14}{r['ess_s']:>10.0f}"
                  f"{r['div']:>4}{r['load']:>6}", flush=True)


def simulated(seeds: list[int], groups: int) -> None:
    """y = 1 + 0.5 x + r[g] + e, sd(r) = 1, sigma = 2; rows per level from 1 to 100."""
    print(f"simulated single-term models, {groups} levels, sd = 1, sigma = 2 (true information per level = n / 4)")
    print(f"{'rows/level':>10}{'info est':>9}{'rule':>6}{'NC ESS/CPU-s':>13}{'C ESS/CPU-s':>12}{'NC ESS':>7}{'C ESS':>6}"
          f"{'NC div':>7}{'C div':>6}{'seed':>5}{'load':>6}")
    for n in [1, 2, 5, 20, 100]:
        for seed in seeds:
            rng = np.random.default_rng(seed)
            g = np.repeat(np.arange(groups), n)
            x = rng.normal(size=g.size)
            y = 1 + 0.5 * x + rng.normal(0, 1, groups)[g] + rng.normal(0, 2, g.size)
            frame = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
            formula = "y ~ x + (1 | g)"
            code, data = stanmer.stan_code(formula, frame), stanmer.stan_data(formula, frame)
            chosen = "C" if rule(data) else "NC"
            nc, c = run(code, data, seed, 1000, 1000), run(centre(code, {1}), data, seed, 1000, 1000)
            print(f"{n:>10}{information_per_level(data)[0]:>9.2f}{chosen:>6}{nc['ess_s']:>13.0f}{c['ess_s']:>12.0f}"
                  f"{nc['min_ess']:>7.0f}{c['min_ess']:>6.0f}{nc['div']:>7}{c['div']:>6}{seed:>5}{c['load']:>6}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["reference", "simulated"])
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--groups", type=int, default=50)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.what == "reference":
        reference(seeds)
    else:
        simulated(seeds, args.groups)


if __name__ == "__main__":
    main()
