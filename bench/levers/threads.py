"""Lever: within-chain threads. stanmer's VerbAgg program against a hand-written
reduce_sum version of it (bench/prototypes/verbagg_reduce_sum.stan) run with
stanli's threads_per_chain.

    python bench/levers/threads.py check
        log density and gradient of the reduce_sum program (1 and 2 threads,
        several grainsizes) against the generated program at random
        unconstrained points; fails above 1e-8 relative
    python bench/levers/threads.py gradient [--seconds 6 --rounds 5 --max-wait 900]
        cost of one gradient per variant (interleaved rounds, best of each),
        after waiting for a quiet machine as below
    python bench/levers/threads.py sample [--repeats 2 --max-wait 900]
        chains=1, 1000 + 1000, seed 1, each variant in turn, repeated; before
        each run waits for a 1-minute load average below 1.3 (shared machine)
"""

import argparse
import time

import numpy as np
import stanli

import common
import stanmer

PROTOTYPE = common.BENCH / "prototypes" / "verbagg_reduce_sum.stan"
TOLERANCE = 1e-8
QUIET_LOAD = 1.3


def programs() -> tuple[str, str, dict]:
    frame = common.load("verbagg")[0]
    formula = common.VERBAGG_FORMULA
    code = stanmer.stan_code(formula, frame, family="bernoulli")
    data = stanmer.stan_data(formula, frame, family="bernoulli")
    return code, PROTOTYPE.read_text(), data


def default_grainsize(rows: int, threads: int) -> int:
    """brms's default for threading(): about two slices per thread, at least 100 rows."""
    return max(100, rows // (2 * threads))


def variants(code: str, reduce_sum: str, data: dict) -> dict[str, stanli.Model]:
    """The generated program and the reduce_sum one at 1 and 2 threads, each
    built with the thread count it samples with (so sample() does not rebuild)."""
    grainsize = default_grainsize(data["N"], 2)
    return {
        "original": stanli.Model(stan_code=code, data=data),
        "reduce_sum 1 thread": stanli.Model(stan_code=reduce_sum, data=data | {"grainsize": grainsize},
                                            threads_per_chain=1),
        "reduce_sum 2 threads": stanli.Model(stan_code=reduce_sum, data=data | {"grainsize": grainsize},
                                             threads_per_chain=2),
    }


def check(args) -> None:
    code, reduce_sum, data = programs()
    original = stanli.Model(stan_code=code, data=data)
    rng = np.random.default_rng(42)
    points = [rng.normal(0, 1, original.n_unconstrained) for _ in range(8)]
    expected = [original.log_prob_grad(q) for q in points]
    worst = 0.0
    print(f"{'threads':>7}{'grainsize':>10}{'retained':>9}  {'max rel lp diff':>16}{'max rel grad diff':>18}  fallbacks")
    for threads in (1, 2):
        for grainsize in (1, 100, default_grainsize(data["N"], threads), data["N"]):
            model = stanli.Model(stan_code=reduce_sum, data=data | {"grainsize": grainsize},
                                 threads_per_chain=threads)
            lp_rel = grad_rel = 0.0
            for q, (lp, grad) in zip(points, expected):
                lp_rs, grad_rs = model.log_prob_grad(q)
                lp_rel = max(lp_rel, abs(lp_rs - lp) / abs(lp))
                grad_rel = max(grad_rel, np.max(np.abs(grad_rs - grad)) / np.max(np.abs(grad)))
            worst = max(worst, lp_rel, grad_rel)
            print(f"{threads:>7}{grainsize:>10}{model.reduce_sum_count:>9}  {lp_rel:>16.1e}{grad_rel:>18.1e}  "
                  f"{model.reduce_sum_fallbacks}")
    print(f"{len(points)} points N(0, 1), {original.n_unconstrained} unconstrained parameters; "
          f"worst {worst:.1e} ({'PASS' if worst <= TOLERANCE else 'FAIL'} at {TOLERANCE:g})")
    if worst > TOLERANCE:
        raise SystemExit(1)


def gradient(args) -> None:
    models = variants(*programs())
    waited = wait_until_quiet(args.max_wait)
    print(f"waited {waited:.0f} s; load before {common.loadavg()}")
    best = common.best_gradient_seconds(models, args.seconds / args.rounds, args.rounds)
    for name in models:
        print(f"{name:<22}{best[name] * 1e3:8.3f} ms/gradient  {best['original'] / best[name]:.2f}x  "
              f"load {common.loadavg()}")


def wait_until_quiet(max_wait: float) -> float:
    """Seconds waited for the 1-minute load average to fall below QUIET_LOAD."""
    started = time.monotonic()
    while float(common.loadavg()) >= QUIET_LOAD and time.monotonic() - started < max_wait:
        time.sleep(20)
    return time.monotonic() - started


def min_bulk_ess(fit) -> float:
    import arviz as az

    ess = az.ess(fit.to_arviz(), method="bulk")
    return min(float(ess[name].min()) for name in ess.data_vars)


def sample(args) -> None:
    models = variants(*programs())
    names = list(models)
    print("| run | variant | load before | waited s | wall s | CPU s | steps/draw | min bulk ESS | ESS/s "
          "| divergences | sd_1 | sd_2 | retained reductions | fallbacks | load after |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for repeat in range(args.repeats):
        # rotate the order each round so no variant always follows another's heat
        for name in names[repeat % len(names):] + names[:repeat % len(names)]:
            model = models[name]
            waited = wait_until_quiet(args.max_wait)
            before = common.loadavg()
            started, cpu = time.perf_counter(), common.cpu_seconds()
            fit = model.sample(chains=1, warmup=args.warmup, samples=args.draws, seed=1, refresh=0,
                               threads_per_chain=model.threads_per_chain)
            wall, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
            after = common.loadavg()
            ess = min_bulk_ess(fit)
            steps = float(np.mean(fit["n_leapfrog__"]))
            print(f"| {repeat + 1} | {name} | {before} | {waited:.0f} | {wall:.1f} | {cpu:.1f} | {steps:.1f} "
                  f"| {ess:.0f} | {ess / wall:.1f} | {int(np.sum(fit.divergences))} | {np.mean(fit['sd_1']):.4f} "
                  f"| {np.mean(fit['sd_2']):.4f} | {model.reduce_sum_count} | {model.reduce_sum_fallbacks} "
                  f"| {after} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["check", "gradient", "sample"])
    parser.add_argument("--seconds", type=float, default=6.0, help="gradient timing budget per variant")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--max-wait", type=float, default=900, help="seconds to wait for a quiet machine per run")
    args = parser.parse_args()
    {"check": check, "gradient": gradient, "sample": sample}[args.what](args)


if __name__ == "__main__":
    main()
