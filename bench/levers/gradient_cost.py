"""Lever: the cost of one gradient of each program shape, and a check that
every rewrite has the plain program's gradient (and log density up to a
constant) at random points.

    python bench/levers/gradient_cost.py [insteval|reference] [--seconds 3]
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
    parser.add_argument("--seconds", type=float, default=3.0, help="timing budget per shape")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="save the variants under bench/prototypes/")
    args = parser.parse_args()
    if args.model == "insteval":
        frame, provenance = common.load("insteval")
        formula = common.INSTEVAL_FORMULA
    else:
        frame, provenance, formula = common.reference_data(), "examples/ifsc", common.REFERENCE_FORMULA
    code, data = stanmer.stan_code(formula, frame), stanmer.stan_data(formula, frame)
    print(f"{args.model}: {formula}; N={data['N']}; {provenance}")
    rng = np.random.default_rng(42)
    points, reference = None, None
    names = shapes.VARIANTS if data["N"] < 10_000 else shapes.LARGE_VARIANTS
    models, checks = {}, {}
    for name in names:
        program = shapes.VARIANTS[name](code)
        if args.write:
            (common.BENCH / "prototypes" / f"{args.model}_{name}.stan").write_text(program)
        started = time.perf_counter()
        model = stanli.Model(stan_code=program, data={**data, **shapes.extra_data(name, data)})
        build = time.perf_counter() - started
        dimension = len(model.unconstrain(_zeros(model, data)))
        if points is None:
            points = [rng.normal(0, 0.7, dimension) for _ in range(8)]
        values = [model.log_prob_grad(q) for q in points]
        lps = np.array([float(v[0]) for v in values])
        grads = [np.asarray(v[1]) for v in values]
        if reference is None:
            reference = (lps, grads)
        rel = max(np.max(np.abs(g - r)) / np.max(np.abs(r)) for g, r in zip(grads, reference[1]))
        spread = np.ptp(lps - reference[0]) / np.max(np.abs(reference[0]))
        models[name], checks[name] = model, (build, rel, spread)
    best = common.best_gradient_seconds(models, args.seconds / args.rounds, args.rounds)
    load = common.loadavg()
    print(f"{'shape':<14}{'build s':>8}{'grad ms':>9}{'vs plain':>9}{'grad rel diff':>15}{'lp-diff spread/|lp|':>21}{'load':>6}")
    for name in names:
        build, rel, spread = checks[name]
        print(f"{name:<14}{build:>8.2f}{best[name] * 1e3:>9.3f}{best['plain'] / best[name]:>8.2f}x"
              f"{rel:>15.1e}{spread:>21.1e}{load:>6}")

def _zeros(model, data):
    """A valid constrained point for unconstrain(): only its length matters here."""
    T = sum(1 for key in data if key.startswith("J_"))
    start = {"b": np.zeros(data["K"]), "Intercept_c": 0.0, "sigma": 1.0}
    for t in range(1, T + 1):
        start |= {f"sd_{t}": 1.0, f"z_{t}": np.zeros(data[f"J_{t}"])}
    return start


if __name__ == "__main__":
    main()
