"""Cold fit of the reference model with the default engine, in a fresh process:
from `import stanmer` to the printed summary. Target: under 10 s.

    python bench/cold_fit.py [--repeat 3] [--engine auto]

Each run starts a new interpreter with an empty stanmer cache, so nothing
compiled or parsed earlier helps it.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import time
started = time.perf_counter()
import stanmer
import ifsc_data
fit = stanmer.fit("score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)",
                  ifsc_data.load_wide(), engine={engine!r}, seed=1, progress=False)
text = str(fit)
print(f"{{time.perf_counter() - started:.2f}} {{fit.idata.attrs['engine']}} {{fit.timings['compiled']}}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", default="auto")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "examples" / "ifsc")])}
    for run in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as cache:
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", CHILD.format(engine=args.engine)],
                env={**env, "STANMER_CACHE_DIR": cache}, capture_output=True, text=True, check=True,
            )
            wall = time.perf_counter() - started
        inner, engine, compiled = result.stdout.split()
        print(f"run {run}: {wall:.2f} s wall (interpreter start included), {inner} s import→summary, "
              f"engine {engine}, compiled={compiled}")


if __name__ == "__main__":
    main()
