"""Shared pieces of the lever measurements: the data sets, the generated
programs, and timing of stanli's gradient."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parents[1]
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "examples" / "ifsc"))

REFERENCE_FORMULA = "score_final ~ 1 + score_semi + score_quali + (1 | comp_id) + (1 | athlete_id)"
INSTEVAL_FORMULA = "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)"
VERBAGG_FORMULA = "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)"

# bench/data/ holds the CSVs exported from R; without them, they are
# exported here from lme4 when R is present, else InstEval is simulated.
DATA_DIRS = [BENCH / "data", Path(os.environ.get("STANMER_BENCH_DATA", "/tmp/stanmer_bench_data"))]

EXPORT_R = r"""
suppressMessages(library(lme4))
out <- commandArgs(trailingOnly = TRUE)[1]
d <- InstEval
write.csv(data.frame(y = d$y, s = as.integer(d$s), d = as.integer(d$d), dept = as.integer(d$dept),
                     service = as.integer(d$service) - 1L), file.path(out, "insteval.csv"), row.names = FALSE)
v <- VerbAgg
write.csv(data.frame(r2 = as.integer(v$r2 == "Y"), Anger = v$Anger, Gender = as.character(v$Gender),
                     btype = as.character(v$btype), situ = as.character(v$situ), mode = as.character(v$mode),
                     id = as.integer(v$id), item = as.integer(v$item)), file.path(out, "verbagg.csv"), row.names = FALSE)
"""


def _find(name: str) -> Path | None:
    for folder in DATA_DIRS:
        if (folder / name).exists():
            return folder / name
    return None


def _export_from_r() -> bool:
    folder = DATA_DIRS[1]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["Rscript", "-e", EXPORT_R, str(folder)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def simulated_insteval(seed: int = 1) -> pd.DataFrame:
    """InstEval's shape: 73,421 rows, 2,972 students, 1,128 teachers, 14 departments x service."""
    rng = np.random.default_rng(seed)
    n = 73_421
    s = rng.integers(1, 2973, n)
    d = rng.integers(1, 1129, n)
    dept = (d % 14) + 1
    service = rng.integers(0, 2, n)
    eta = 3.2 - 0.07 * service + rng.normal(0, 0.32, 2973)[s] + rng.normal(0, 0.52, 1129)[d] \
        + rng.normal(0, 0.13, 29)[dept * 2 - 1 + service - 1]
    y = np.clip(np.round(eta + rng.normal(0, 1.18, n)), 1, 5)
    return pd.DataFrame({"y": y, "s": s, "d": d, "dept": dept, "service": service})


def load(name: str) -> tuple[pd.DataFrame, str]:
    """(data, provenance) for 'insteval' or 'verbagg'."""
    path = _find(f"{name}.csv")
    if path is None and _export_from_r():
        path = _find(f"{name}.csv")
    if path is None:
        if name != "insteval":
            raise FileNotFoundError(f"{name}.csv: export it from R (lme4) into bench/data/")
        return simulated_insteval(), "simulated with InstEval's shape"
    frame = pd.read_csv(path)
    for column in ("s", "d", "dept", "id", "item"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    return frame, f"lme4 data, {path}"


def reference_data() -> pd.DataFrame:
    import ifsc_data

    return ifsc_data.load_wide()


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def cpu_seconds() -> float:
    """CPU time of this process, every thread: on a shared machine it moves far
    less with the load than wall time does."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_gradient_seconds(models: dict, seconds_per_round: float, rounds: int) -> dict[str, float]:
    """Per model, its best gradient_seconds over `rounds` round-robin rounds:
    the machine is shared, so a quiet moment counts for every model alike."""
    best = {name: np.inf for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            best[name] = min(best[name], gradient_seconds(model, model.n_unconstrained, seconds_per_round))
    return best


def gradient_seconds(model, dimension: int, seconds: float = 3.0, seed: int = 0) -> float:
    """Mean wall time of one log_prob_grad call at random points."""
    rng = np.random.default_rng(seed)
    points = [rng.normal(0, 0.5, dimension) for _ in range(16)]
    model.log_prob_grad(points[0])
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.log_prob_grad(points[calls % 16])
        calls += 1
    return (time.perf_counter() - started) / calls
