"""The ported levers, measured through stanmer itself (not the prototypes).

    python bench/levers/ported.py gradient [insteval|reference] [--seconds 6]
        per-row vs sufficient-statistics program as stanmer generates them:
        gradient cost (interleaved rounds, best of each) and equality check
    python bench/levers/ported.py fit [insteval|reference] [--warmup 300 --draws 300 --chains 1]
        stanmer.fit at the given settings (the program stanmer chooses),
        in this process: wall, CPU s, steps/draw, min bulk ESS, peak memory
        (PYTHONPATH=<other checkout>/src runs another version's stanmer)
"""

import argparse
import resource
import time

import numpy as np
import stanli

import common
import stanmer


def _frame(name: str):
    if name == "insteval":
        return common.load("insteval")[0], common.INSTEVAL_FORMULA
    return common.reference_data(), common.REFERENCE_FORMULA


def gradient(args) -> None:
    from stanmer.codegen import generate
    from stanmer.standata import make_standata
    from stanmer.sufficient_statistics import statistics

    frame, formula = _frame(args.model)
    design = stanmer.design(formula, frame)
    models = {}
    for name, sufficient in (("per-row", False), ("sufficient", True)):
        started = time.perf_counter()
        data = make_standata(design) | (statistics(design) if sufficient else {})
        models[name] = stanli.Model(stan_code=generate(design.spec, sufficient_statistics=sufficient), data=data)
        print(f"{name}: data + build {time.perf_counter() - started:.2f} s")
    spec = design.spec
    dimension = len(spec.population) + 2 + sum(1 + len(t.levels) for t in spec.group_terms)
    rng = np.random.default_rng(42)
    points = [rng.normal(0, 0.7, dimension) for _ in range(8)]
    values = {name: [m.log_prob_grad(q) for q in points] for name, m in models.items()}
    grads = {name: [np.asarray(v[1]) for v in vs] for name, vs in values.items()}
    rel = max(np.max(np.abs(a - b)) / np.max(np.abs(b)) for a, b in zip(grads["sufficient"], grads["per-row"]))
    lp_diff = [float(a[0]) - float(b[0]) for a, b in zip(values["sufficient"], values["per-row"])]
    print(f"max rel grad diff {rel:.1e}; lp difference {np.mean(lp_diff):.6f}, spread {np.ptp(lp_diff):.1e}")
    best = common.best_gradient_seconds(models, args.seconds / args.rounds, args.rounds)
    for name in models:
        print(f"{name:<11} {best[name] * 1e3:8.3f} ms/gradient  {best['per-row'] / best[name]:.2f}x  "
              f"load {common.loadavg()}")


def fit(args) -> None:
    import arviz as az

    frame, formula = _frame(args.model)
    started, cpu = time.perf_counter(), common.cpu_seconds()
    fitted = stanmer.fit(formula, frame, chains=args.chains, warmup=args.warmup, draws=args.draws, seed=1,
                         progress=False)
    wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
    posterior = fitted.idata.posterior
    ess = az.ess(posterior, method="bulk")
    worst = min(ess.data_vars, key=lambda v: float(ess[v].min()))
    stats = fitted.idata.sample_stats
    steps = float(stats["n_steps"].mean()) if "n_steps" in stats else float("nan")
    sds = " ".join(f"{v}={float(posterior[v].mean()):.4f}" for v in posterior.data_vars if v.startswith("sd_"))
    values_per_draw = sum(int(np.prod(posterior[v].shape[2:])) for v in posterior.data_vars)
    print(f"program: {'sufficient statistics' if 'real rss' in fitted.stan_code else 'per-row'}")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s, steps/draw {steps:.1f}, min bulk ESS {float(ess[worst].min()):.0f} "
          f"({worst}), divergences {int(stats['diverging'].sum())}, values per draw {values_per_draw}")
    print(f"{sds} sigma={float(posterior['sigma'].mean()):.4f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, load {common.loadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["gradient", "fit"])
    parser.add_argument("model", nargs="?", default="insteval")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--chains", type=int, default=1)
    args = parser.parse_args()
    gradient(args) if args.what == "gradient" else fit(args)


if __name__ == "__main__":
    main()
