"""Wall time of `stanmer batch ifsc.toml` against fitting its models one by one.

    python examples/batch/compare_timings.py

Every way runs as its own process (imports included) with a cold compile
cache, from the same manifest:
- batch --jobs 1 and --jobs 2, then the batch again (every model up to date);
- one `stanmer fit` process per model, as a shell loop would run them;
- one Python process calling stanmer.fit and save_fit for each model in turn.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent / "ifsc.toml"
STANMER = [sys.executable, "-m", "stanmer"]


def timed(command: list[str], cache: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "STANMER_CACHE_DIR": str(cache)})
    return time.perf_counter() - started


def fit_command(request, data: Path, out: Path) -> list[str]:
    options = [f"--{key.replace('_', '-')}={value}" for key, value in request.options.items() if value is not None]
    priors = [f"--prior={text}" for text in request.priors]
    return [*STANMER, "fit", request.formula, "--data", str(data), *priors, *options, "--out", str(out)]


def one_process_per_model(work: Path) -> float:
    from stanmer.cli.manifest import load_manifest

    commands = []
    for request in load_manifest(MANIFEST):
        data = work / f"{request.name}.csv"
        request.rows().to_csv(data, index=False)  # `stanmer fit` has no split_by: one file per group
        commands.append(fit_command(request, data, work / "one-by-one" / request.name))
    return sum(timed(command, work / "cache-fit") for command in commands)


def python_loop(out: Path) -> None:
    """Run in a child process: every model of the manifest in turn, saved as the batch saves it."""
    from stanmer.cli.fitting import fit_request
    from stanmer.cli.manifest import load_manifest
    from stanmer.results.persist import save_fit

    for request in load_manifest(MANIFEST):
        save_fit(fit_request(request), out / request.name)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        batch = [*STANMER, "batch", str(MANIFEST), "--quiet", "--out"]
        jobs_1, jobs_2 = [*batch, str(work / "b1"), "--jobs", "1"], [*batch, str(work / "b2"), "--jobs", "2"]
        rows = [
            ("stanmer batch --jobs 1", timed(jobs_1, work / "cache-b1")),
            ("stanmer batch --jobs 2", timed(jobs_2, work / "cache-b2")),
            ("stanmer batch --jobs 2, rerun (all up to date)", timed(jobs_2, work / "cache-b2")),
            ("one `stanmer fit` process per model", one_process_per_model(work)),
            ("one Python process, stanmer.fit per model", timed([sys.executable, __file__, str(work / "loop")], work)),
        ]
    print(f"{'':48} wall time (s), {os.cpu_count()} CPUs")
    for label, seconds in rows:
        print(f"{label:48} {seconds:6.1f}")


if __name__ == "__main__":
    python_loop(Path(sys.argv[1])) if len(sys.argv) > 1 else main()
