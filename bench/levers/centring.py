"""The ported per-term parametrisation (stanmer.parametrisation), measured
through stanmer.fit itself: the rule's choice (centered=None) against both
fixed choices.

    python bench/levers/centring.py slopes --seeds 1,2       # bench/run.py's correlated-slopes model
    python bench/levers/centring.py simulated --seeds 1,2 [--groups 50]  # y ~ x + (1 | g), sparse to data-rich
    python bench/levers/centring.py gradient                 # slopes model: cost of one gradient per form
    python bench/levers/centring.py insteval                 # 1 chain 300 + 300: the rule vs all non-centred

Each fit: 4 chains x 1000 + 1000 on stanli; min bulk ESS over every posterior
quantity stanmer reports (b, sd_g, cor_g, r_g, sigma: the effects r, so both
forms compare on the same quantities), CPU seconds of the process and its
finished children (load-insensitive, unlike wall), ESS per CPU second,
leapfrog steps per draw, divergences, 1-minute load average. The rule's fit
is the fixed choice it picks: the program text is checked to be the same.
"""

from __future__ import annotations

import argparse
import sys
import warnings
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import run as suite  # noqa: E402  bench/run.py: slopes_data, cpu_seconds, posterior_checks

import stanmer  # noqa: E402
from stanmer.codegen import executable_text  # noqa: E402

FORMS = {"non-centred": False, "centred": True}


def measure(formula: str, frame: pd.DataFrame, centered: bool, seed: int) -> dict:
    warnings.simplefilter("ignore")  # the table reports ESS, R-hat and divergences
    started, cpu = time.perf_counter(), suite.cpu_seconds()
    fit = stanmer.fit(formula, frame, centered=centered, chains=4, warmup=1000, draws=1000, seed=seed, progress=False)
    cpu, wall = suite.cpu_seconds() - cpu, time.perf_counter() - started
    checks = suite.posterior_checks(fit.idata)
    steps = fit.idata.sample_stats["n_steps"].values if "n_steps" in fit.idata.sample_stats else np.nan
    return checks | {"cpu": cpu, "wall": wall, "ess_cpu": checks["min_ess"] / cpu, "steps": float(np.mean(steps)),
                     "load": Path("/proc/loadavg").read_text().split()[0]}


def rule_choice(formula: str, frame: pd.DataFrame) -> tuple[str, str]:
    """The form the rule picks for the (single) term and its reason; checks
    that the rule's program is that fixed choice's program."""
    design = stanmer.design(formula, frame)
    from stanmer.pipeline import build_model

    chosen = build_model(design)
    term = chosen.design.spec.group_terms[0]
    fixed = build_model(design, centered=term.centred)
    assert executable_text(chosen.program) == executable_text(fixed.program)
    return ("centred" if term.centred else "non-centred"), term.centring_reason


def line(label: str, seed: int, r: dict) -> str:
    return (f"| {label} | {seed} | {r['cpu']:.1f} | {r['wall']:.1f} | {r['steps']:.1f} | {r['min_ess']:.0f} | "
            f"{r['worst']} | {r['ess_cpu']:.1f} | {r['max_rhat']:.3f} | {r['divergences']} | {r['load']} |")


HEADER = ("| form | seed | CPU s | wall s | steps/draw | min bulk ESS | worst | ESS/CPU-s | max R-hat | div | load |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")


def slopes(seeds: list[int]) -> None:
    formula, frame = "y ~ x + (1 + x | g)", suite.slopes_data()
    form, reason = rule_choice(formula, frame)
    print(f"slopes model (200 groups x 20 rows): rule -> {form}: {reason}\n{HEADER}", flush=True)
    for seed in seeds:
        for label, centered in FORMS.items():
            print(line(label + (" (rule)" if label == form else ""), seed, measure(formula, frame, centered, seed)),
                  flush=True)


def one_term(rows: int, seed: int, groups: int = 50) -> pd.DataFrame:
    """y = 1 + 0.5 x + r[g] + e, sd(r) = 1, sigma = 2: true information per level rows / 4."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(0, 1, groups)[g] + rng.normal(0, 2, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})


def simulated(seeds: list[int], rows_per_level: list[int], groups: int = 50) -> None:
    formula = "y ~ x + (1 | g)"
    print(f"simulated y ~ x + (1 | g), {groups} levels, sd 1, sigma 2\n{HEADER}", flush=True)
    for rows in rows_per_level:
        for seed in seeds:
            frame = one_term(rows, seed, groups)
            form, reason = rule_choice(formula, frame)
            print(f"| **{rows} rows/level**, rule -> {form}: {reason} | | | | | | | | | | |", flush=True)
            for label, centered in FORMS.items():
                r = measure(formula, frame, centered, seed)
                print(line(label + (" (rule)" if label == form else ""), seed, r), flush=True)


def gradient(rounds: int = 5, seconds: float = 6.0) -> None:
    """One gradient of each form of the slopes program, interleaved rounds, best
    of each (wall per call: a single thread, so far less load-sensitive than a fit)."""
    import common
    import stanli

    design = stanmer.design("y ~ x + (1 + x | g)", suite.slopes_data())
    from stanmer.pipeline import build_model

    models = {}
    for label, centered in FORMS.items():
        model = build_model(design, centered=centered)
        models[label] = stanli.Model(stan_code=model.executable, data=model.standata)
    dimension = 1 + 1 + 2 + 2 * 200 + 1 + 1  # b, Intercept_c, sd, z or r, L (1 free value), sigma
    best = {label: np.inf for label in models}
    for _ in range(rounds):
        for label, model in models.items():
            best[label] = min(best[label], common.gradient_seconds(model, dimension, seconds / rounds))
    for label in models:
        print(f"{label:<12} {best[label] * 1e3:.3f} ms/gradient  ({best['non-centred'] / best[label]:.2f}x)  "
              f"load {common.loadavg()}")


def insteval() -> None:
    """The InstEval model, whose (1 | dept:service) the rule centres, against all non-centred."""
    import common

    frame = common.load("insteval")[0]
    for label, centered in (("rule", None), ("all non-centred", False)):
        started, cpu = time.perf_counter(), suite.cpu_seconds()
        fit = stanmer.fit(common.INSTEVAL_FORMULA, frame, centered=centered, chains=1, warmup=300, draws=300,
                          seed=1, progress=False)
        cpu, wall = suite.cpu_seconds() - cpu, time.perf_counter() - started
        checks = suite.posterior_checks(fit.idata)
        posterior, stats = fit.idata.posterior, fit.idata.sample_stats
        forms = ", ".join("centred" if t.centred else "non-centred" for t in fit.spec.group_terms)
        sds = " ".join(f"{v}={float(posterior[v].mean()):.4f}" for v in posterior.data_vars if v.startswith("sd_"))
        print(f"| {label} ({forms}) | {cpu:.1f} | {wall:.1f} | {float(stats['n_steps'].mean()):.1f} | "
              f"{checks['min_ess']:.0f} ({checks['worst']}) | {checks['min_ess'] / cpu:.2f} | {checks['divergences']} | "
              f"{sds} sigma={float(posterior['sigma'].mean()):.4f} | {Path('/proc/loadavg').read_text().split()[0]} |",
              flush=True)


def warm_up() -> None:
    """Imports and first-use costs (ArviZ, stanli) land here, not in the first measured fit."""
    stanmer.fit("y ~ x + (1 | g)", one_term(2, 0), chains=1, warmup=20, draws=20, seed=1, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["slopes", "simulated", "gradient", "insteval"])
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--rows", default="2,5,20,100")
    parser.add_argument("--groups", type=int, default=50, help="levels of g in the simulated model")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    warm_up()
    if args.what == "gradient":
        gradient()
    elif args.what == "insteval":
        insteval()
    elif args.what == "slopes":
        slopes(seeds)
    else:
        simulated(seeds, [int(n) for n in args.rows.split(",")], args.groups)


if __name__ == "__main__":
    main()
