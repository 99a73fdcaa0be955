"""Helpers for the tests that run, kill and rerun real batches (test_batch_faults, test_dask)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import arviz as az
import pandas as pd
import psutil

from stanmer.cli.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "ifsc" / "processed_ifsc_boulder_results_2025.csv"
FORMULA = "score_final ~ score_semi + (1 | athlete_id)"
RUN_TIMEOUT = 300  # seconds: no batch of these tiny models may take longer, even on a busy machine


def write_manifest(path: Path, models: int, draws: int = 150) -> Path:
    """`models` tiny models of the IFSC finals, each with its own seed."""
    entries = "".join(f'\n[[models]]\nname = "m{k}"\nformula = "{FORMULA}"\nseed = {k}\n' for k in range(models))
    defaults = f'[defaults]\ndata = "{REFERENCE}"\nengine = "stanli"\nchains = 2\nwarmup = {draws}\ndraws = {draws}\n'
    path.write_text(defaults + entries)
    return path


def cli_env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def run_cli(*args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "stanmer", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=cli_env(), cwd=ROOT, timeout=RUN_TIMEOUT)


def start_cli(*args) -> subprocess.Popen:
    """A batch in its own session, so killing it reaches no other process."""
    command = [sys.executable, "-m", "stanmer", *map(str, args)]
    return subprocess.Popen(
        command,
        env=cli_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def assert_all_gone(processes: list[psutil.Process], timeout: float = 15) -> None:
    """Every one of `processes` has ended (zombies count as ended)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left running: {[(p.pid, p.cmdline()[:3]) for p in alive]}"


def assert_outputs_match(manifest: Path, out: Path) -> pd.DataFrame:
    """Every model of `manifest` has a complete folder fitted from its current
    entry (spec hash and number of draws); returns report.csv."""
    report = pd.read_csv(out / "report.csv", keep_default_na=False).set_index("name")
    for request in load_manifest(manifest):
        folder = out / request.name
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["request"]["spec_hash"] == request.spec_hash(), request.name
        posterior = az.from_netcdf(folder / "fit.nc").posterior
        assert posterior.sizes["draw"] == request.options["draws"], request.name
        assert posterior.sizes["chain"] == request.options["chains"], request.name
        assert not list(folder.glob(".*.tmp")), request.name
        assert report.loc[request.name, "status"] in ("ok", "skipped"), request.name
    return report


def completions(folder: Path) -> int:
    """How many times a model's files were completed, as its log records."""
    return (folder / "log.txt").read_text().count("complete: all files saved")
