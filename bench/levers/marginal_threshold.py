"""How large may the dense part R of the marginal program be (stanmer.marginal.MAX_DENSE_LEVELS)?

    python bench/levers/marginal_threshold.py [--sizes 50,100,200,400] [--rows 4000]
    python bench/levers/marginal_threshold.py --ess [--sizes 25,50,100] [--rows 2000 --levels 500] [--seeds 1,2]

Simulated crossed intercepts, y ~ x + (1 | ga) + (1 | gb): `ga` has 1,000
(--levels) levels (eliminated in closed form), `gb` has R levels (the R x R Cholesky),
levels drawn at random per row. Times one gradient (stanli log_prob_grad,
median of repeats) of the marginal program against the per-row program and
the sufficient-statistics one (the programs the model would otherwise get). --ess fits each with
stanmer.fit at default settings instead (4 x 1000 + 1000, stanli): min bulk
ESS over everything (effects included), CPU seconds of the fit, leapfrog
steps per draw, divergences.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import stanli
import stanmer
from stanmer.codegen import generate
from stanmer.marginal import statistics as marginal_statistics
from stanmer.standata import make_standata
from stanmer.sufficient_statistics import statistics as sufficient_statistics


def frame(R: int, rows: int, levels: int = 1000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, levels, rows), rng.integers(0, R, rows)
    x = rng.normal(size=rows)
    y = 1 + 0.5 * x + rng.normal(size=levels)[a] + rng.normal(size=R)[b] + rng.normal(size=rows)
    return pd.DataFrame({"y": y, "x": x, "ga": a, "gb": b})


def gradient_seconds(code: str, data: dict, dimension: int, repeats: int) -> float:
    model = stanli.Model(stan_code=code, data=data)
    rng = np.random.default_rng(2)
    point = np.concatenate([rng.normal(0, 0.3, dimension - 3), [0.0, 0.0, 0.0]])
    model.log_prob_grad(point)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.log_prob_grad(point)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def ess_per_cpu_second(sizes: list[int], rows: int, levels: int, seeds: list[int]) -> None:
    import stanmer.marginal

    print(f"rows {rows}, J_a = {levels} (eliminated), J_b = R; stanmer.fit defaults")
    print("| R | program | seed | min bulk ESS | CPU s | steps/draw | div | min ESS / CPU s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for R in sizes:
        data = frame(R, rows, levels)
        for label, limit in (("other", -1), ("marginal", 10**9)):
            stanmer.marginal.MAX_DENSE_LEVELS = limit  # force the program shape
            for seed in seeds:
                started = time.process_time()
                fit = stanmer.fit("y ~ x + (1 | ga) + (1 | gb)", data, seed=seed, progress=False)
                cpu = time.process_time() - started
                d = fit.diagnostics
                steps = float(fit.idata.sample_stats["n_steps"].mean()) if "n_steps" in fit.idata.sample_stats \
                    else float("nan")
                print(f"| {R} | {label} | {seed} | {d.min_ess_bulk:.0f} | {cpu:.1f} | {steps:.1f} | {d.divergences} |"
                      f" {d.min_ess_bulk / cpu:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,100,200,400")
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--ess", action="store_true")
    parser.add_argument("--levels", type=int, default=1000)
    parser.add_argument("--seeds", default="1")
    args = parser.parse_args()
    if args.ess:
        ess_per_cpu_second([int(s) for s in args.sizes.split(",")], args.rows, args.levels,
                           [int(s) for s in args.seeds.split(",")])
        return
    print(f"rows {args.rows}, J_a = 1000 (eliminated), J_b = R; one gradient, median of {args.repeats}")
    print("| R | per-row ms | sufficient statistics ms | marginal ms | marginal / best other |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for R in [int(s) for s in args.sizes.split(",")]:
        design = stanmer.design("y ~ x + (1 | ga) + (1 | gb)", frame(R, args.rows))
        plain_dim = 1 + 1 + sum(1 + len(term.levels) for term in design.spec.group_terms) + 1
        base = make_standata(design)
        plain = gradient_seconds(generate(design.spec), base, plain_dim, args.repeats)
        sums = gradient_seconds(generate(design.spec, sufficient_statistics=True),
                                base | sufficient_statistics(design), plain_dim, args.repeats)
        marginal = gradient_seconds(generate(design.spec, marginal=True), base | marginal_statistics(design),
                                    1 + 1 + 2 + 1, args.repeats)
        print(f"| {R} | {plain * 1e3:.2f} | {sums * 1e3:.2f} | {marginal * 1e3:.2f} | {marginal / min(plain, sums):.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
