"""The ported per-term parametrisation (stanmer.parametrisation), measured
through stanmer.fit itself: the rule's choice (centered=None) against both
fixed choices.

    python bench/levers/centring.py slopes --seeds 1,2       # bench/run.py's correlated-slopes model
    python bench/levers/centring.py simulated --seeds 1,2    # y ~ x + (1 | g), sparse to data-rich

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


def simulated(seeds: list[int], rows_per_level: list[int]) -> None:
    formula = "y ~ x + (1 | g)"
    print(f"simulated y ~ x + (1 | g), 50 levels, sd 1, sigma 2\n{HEADER}", flush=True)
    for rows in rows_per_level:
        for seed in seeds:
            frame = one_term(rows, seed)
            form, reason = rule_choice(formula, frame)
            print(f"| **{rows} rows/level**, rule -> {form}: {reason} | | | | | | | | | | |", flush=True)
            for label, centered in FORMS.items():
                r = measure(formula, frame, centered, seed)
                print(line(label + (" (rule)" if label == form else ""), seed, r), flush=True)


def warm_up() -> None:
    """Imports and first-use costs (ArviZ, stanli) land here, not in the first measured fit."""
    stanmer.fit("y ~ x + (1 | g)", one_term(2, 0), chains=1, warmup=20, draws=20, seed=1, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["slopes", "simulated"])
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--rows", default="2,5,20,100")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    warm_up()
    if args.what == "slopes":
        slopes(seeds)
    else:
        simulated(seeds, [int(n) for n in args.rows.split(",")])


if __name__ == "__main__":
    main()
