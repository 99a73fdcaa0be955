"""A refit of the same structure compiles nothing, on the compiled engines.

    python bench/refit_no_compile.py [--engine pystan]

Fits IFSC Fit A, then Fit B (other data, other grouping columns, same
structure), then Fit A with other prior numbers, each in a new process, and
prints whether each compiled and how long compile and sampling took.
(httpstan keys its builds on the Python executable's path too: run the
bench with the interpreter you fit with, or the first run compiles again.)
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import stanmer, ifsc_data
runs = {{
    "fit_a": ("score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)", ifsc_data.load_wide(), None),
    "fit_b": ("score_final ~ 1 + score_semi + score_quali + (1 | event_name:gender) + (1 | athlete_name)",
              ifsc_data.train_test()[0], None),
    "fit_a_new_priors": ("score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)",
                         ifsc_data.load_wide(), [stanmer.prior("normal(0, 0.5)", "b"), stanmer.prior("student_t(3, 0, 5)", "sd")]),
}}
formula, data, priors = runs[{which!r}]
fit = stanmer.fit(formula, data, priors=priors, engine={engine!r}, seed=1, progress=False)
t = fit.timings
print(f"{which:<18} compiled={{t['compiled']!s:<5}} compile {{t['compile_seconds']:6.2f}} s  "
      f"sample {{t['sample_seconds']:5.2f}} s  total {{t['total_seconds']:6.2f}} s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="pystan")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "examples" / "ifsc")])}
    for which in ("fit_a", "fit_b", "fit_a_new_priors"):
        result = subprocess.run([sys.executable, "-c", CHILD.format(which=which, engine=args.engine)],
                                env=env, capture_output=True, text=True)
        print(result.stdout.strip() or result.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
