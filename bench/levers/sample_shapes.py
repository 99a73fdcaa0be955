"""Lever: sampling time of the plain and sufficient-statistics programs, one
chain each on the same seed, and that their posteriors agree.

    python bench/levers/sample_shapes.py [insteval|reference] [--warmup 300 --draws 300 --chains 1]
"""

import argparse
import time

import numpy as np
import stanli

import common
import shapes
import stanmer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", default="insteval")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--chains", type=int, default=1)
    parser.add_argument("--shapes", default="plain,suffstat")
    args = parser.parse_args()
    if args.model == "insteval":
        frame, _ = common.load("insteval")
        formula = common.INSTEVAL_FORMULA
    else:
        frame, formula = common.reference_data(), common.REFERENCE_FORMULA
    code, data = stanmer.stan_code(formula, frame), stanmer.stan_data(formula, frame)
    import arviz as az

    print(f"{'shape':<10}{'wall s':>8}{'CPU s':>7}{'steps/draw':>11}{'min ESS':>8}{'ESS/CPU-s':>10}{'div':>5}"
          "  sd and sigma means  load")
    for name in args.shapes.split(","):
        model = stanli.Model(stan_code=shapes.VARIANTS[name](code), data={**data, **shapes.extra_data(name, data)})
        started, cpu = time.perf_counter(), common.cpu_seconds()
        fit = model.sample(chains=args.chains, seed=1, warmup=args.warmup, samples=args.draws, refresh=0)
        wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
        idata = fit.to_arviz()
        ess = az.ess(idata, method="bulk")
        min_ess = min(float(np.min(ess[v].values)) for v in ess.data_vars)
        steps = float(np.mean(fit["n_leapfrog__"]))
        means = " ".join(f"{float(np.mean(fit[v])):.4f}" for v in fit.variables if v.startswith("sd_") or v == "sigma")
        print(f"{name:<10}{wall:>8.1f}{cpu:>7.1f}{steps:>11.1f}{min_ess:>8.0f}{min_ess / cpu:>10.1f}"
              f"{int(fit.divergences.sum()):>5}  {means}  {common.loadavg()}", flush=True)


if __name__ == "__main__":
    main()
