"""The reference model (examples/ifsc, Fit A, 88 rows) at default settings,
today's per-row program against the marginal one (stanmer.marginal), 4 seeds.

    python bench/levers/marginal_reference.py [--seeds 1,2,3,4]

Per run: min bulk ESS over everything (fit.diagnostics: b, sds, sigma and the
48 group effects) and which quantity, CPU seconds of the fit (every thread,
post-processing included), leapfrog steps per draw, divergences.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import arviz as az

import stanmer
import stanmer.marginal

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "ifsc"))
import ifsc_data  # noqa: E402

FORMULA = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="1,2,3,4")
    args = parser.parse_args()
    data = ifsc_data.load_wide()
    print("| program | seed | min bulk ESS | worst | CPU s | steps/draw | div |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for label, limit in (("per-row (today)", -1), ("marginal", stanmer.marginal.MAX_DENSE_LEVELS)):
        stanmer.marginal.MAX_DENSE_LEVELS = limit
        for seed in [int(s) for s in args.seeds.split(",")]:
            started = time.process_time()
            fit = stanmer.fit(FORMULA, data, seed=seed, progress=False)
            cpu = time.process_time() - started
            ess = az.ess(fit.idata.posterior, method="bulk")
            worst = min(ess.data_vars, key=lambda name: float(ess[name].min()))
            steps = float(fit.idata.sample_stats["n_steps"].mean())
            d = fit.diagnostics
            print(f"| {label} | {seed} | {d.min_ess_bulk:.0f} | {worst} | {cpu:.2f} | {steps:.1f} | {d.divergences} |",
                  flush=True)


if __name__ == "__main__":
    main()
