"""Wall time of every inference method beside NUTS, on the reference model
(IFSC Fit A, 88 rows) and on a simulated 20,000-row binomial GLMM.

    python bench/methods.py [--engine auto] [--methods sample,optimize,laplace]
                            [--models fit_a,glmm] [--chains 4 --warmup 1000 --draws 1000]

Each method runs once after a warm-up fit (so the program is compiled and
cached); times are stanmer.fit's total seconds. Methods the engine cannot
run are reported with the reason. The population effects are printed so the
approximations can be read against NUTS.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "ifsc"))

import ifsc_data  # noqa: E402

import stanmer  # noqa: E402

FIT_A = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"
# cases | trials(n), not cbind(cases, trials - cases): on main the response
# expression "trials - cases" evaluates to trials (formulae drops "- cases"), so
# cbind with an expression currently reads the wrong failures.
GLMM = "cases | trials(trials) ~ x1 + x2 + (1 | group)"


def glmm_rows(n_rows: int = 20_000, n_groups: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n_rows)
    x1, x2 = rng.normal(size=n_rows), rng.normal(size=n_rows)
    trials = rng.integers(1, 20, n_rows)
    eta = -0.5 + 0.4 * x1 - 0.3 * x2 + rng.normal(0, 0.7, n_groups)[group]
    cases = rng.binomial(trials, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"cases": cases, "trials": trials, "x1": x1, "x2": x2, "group": group.astype(str)})


def run(name, formula, data, family, engine, methods, nuts):
    print(f"\n## {name} ({len(data)} rows), engine={engine}")
    stanmer.fit(formula, data, family, engine=engine, method="optimize", seed=1, progress=False)  # warm the cache
    for method in methods:
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                settings = nuts if method == "sample" else {}
                fit = stanmer.fit(
                    formula, data, family, engine=engine, method=method, seed=1, progress=False, **settings
                )
        except stanmer.StanmerError as error:
            print(f"{method:12s} not run: {str(error).splitlines()[0]}")
            continue
        seconds = time.perf_counter() - started
        b = fit.summary().filter(like="b[", axis=0)["mean"].round(3).to_dict()
        k = fit.idata.attrs.get("pareto_k")
        extra = f" pareto_k={k:.2f}" if k is not None else ""
        print(f"{method:12s} {seconds:7.2f} s  engine={fit.idata.attrs['engine']}{extra}  b={b}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--methods", default="sample,optimize,laplace,pathfinder,variational")
    parser.add_argument("--models", default="fit_a,glmm")
    for name, default in (("chains", 4), ("warmup", 1000), ("draws", 1000)):
        parser.add_argument(f"--{name}", type=int, default=default, help="NUTS only")
    args = parser.parse_args()
    methods, models = args.methods.split(","), args.models.split(",")
    nuts = {"chains": args.chains, "warmup": args.warmup, "draws": args.draws}
    if "fit_a" in models:
        run("IFSC Fit A", FIT_A, ifsc_data.load_wide(), "gaussian", args.engine, methods, nuts)
    if "glmm" in models:
        run("binomial GLMM", GLMM, glmm_rows(), "binomial", args.engine, methods, nuts)


if __name__ == "__main__":
    main()
