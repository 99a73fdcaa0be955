"""`stanmer batch` under signals and kills, with real processes (issue 9):
afterwards no stray process remains, a rerun completes, and every output
matches its manifest entry. Tiny models (2 chains of 150 draws) keep it quick.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from batch_runs import (
    FORMULA,
    REFERENCE,
    RUN_TIMEOUT,
    assert_all_gone,
    assert_outputs_match,
    completions,
    descendants,
    run_cli,
    start_cli,
    wait_for,
    write_manifest,
)
from stanmer.cli.batch import share_cores
from stanmer.cli.fitting import FitRequest
from stanmer.sampling import SAMPLER_DEFAULTS
from stanmer.cli.io import InputError, claim_output_folder, exclusive
from stanmer.cli.model_task import ModelResult, Outcome, write_model

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX signals")


def _workers_running(batch) -> list:
    """The pool's worker processes: children of its forkserver, itself a child of the batch."""
    return [p for p in descendants(batch.pid) if p.ppid() != batch.pid]


def test_kill_9_of_the_batch_leaves_no_worker_and_an_edited_rerun_refits(tmp_path):
    manifest = write_manifest(tmp_path / "batch.toml", models=6)
    out = tmp_path / "out"
    batch = start_cli("batch", manifest, "--jobs", 2, "--out", out)
    try:
        wait_for(lambda: list(out.glob("*/meta.json")), RUN_TIMEOUT, "a first finished model")
        workers = descendants(batch.pid)
        assert _workers_running(batch), "the pool's workers should be running"
    finally:
        os.kill(batch.pid, signal.SIGKILL)  # the parent alone, as `kill -9 PID` does
        batch.wait()
    assert_all_gone(workers)

    # The scenario: the rerun has fewer draws; no orphan may later
    # overwrite its fits with the old specification.
    write_manifest(manifest, models=6, draws=100)
    rerun = run_cli("batch", manifest, "--jobs", 2, "--out", out)
    assert rerun.returncode == 0, rerun.stderr
    report = assert_outputs_match(manifest, out)
    assert (report["status"] == "ok").all()  # every spec changed: all refitted
    time.sleep(2)
    assert_outputs_match(manifest, out)


def test_sigint_stops_the_batch_and_its_workers_and_a_rerun_resumes(tmp_path):
    manifest = write_manifest(tmp_path / "batch.toml", models=6)
    out = tmp_path / "out"
    batch = start_cli("batch", manifest, "--jobs", 2, "--out", out)
    try:
        wait_for(lambda: list(out.glob("*/meta.json")), RUN_TIMEOUT, "a first finished model")
        workers = descendants(batch.pid)
        interrupted = time.monotonic()
        os.killpg(batch.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        _, stderr = batch.communicate(timeout=30)
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
    assert batch.returncode == 130 and "interrupted" in stderr
    assert time.monotonic() - interrupted < 10
    assert_all_gone(workers)
    finished = {path.parent.name for path in out.glob("*/meta.json")}

    rerun = run_cli("batch", manifest, "--jobs", 2, "--out", out)
    assert rerun.returncode == 0, rerun.stderr
    report = assert_outputs_match(manifest, out)
    for name in report.index:
        assert report.loc[name, "status"] == ("skipped" if name in finished else "ok")
        assert completions(out / name) == 1, name


def test_a_killed_worker_fails_its_models_and_a_rerun_completes_them(tmp_path):
    manifest = write_manifest(tmp_path / "batch.toml", models=4)
    out = tmp_path / "out"
    batch = start_cli("batch", manifest, "--jobs", 2, "--out", out)
    try:
        wait_for(lambda: _workers_running(batch), RUN_TIMEOUT, "the pool's workers")
        victim = _workers_running(batch)[0]
        victim.kill()
        _, stderr = batch.communicate(timeout=RUN_TIMEOUT)
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
    assert batch.returncode in (0, 1), stderr  # the models the dead worker took are reported failed
    if batch.returncode == 1:
        assert "worker process died" in stderr

    rerun = run_cli("batch", manifest, "--jobs", 2, "--out", out)
    assert rerun.returncode == 0, rerun.stderr
    report = assert_outputs_match(manifest, out)
    for name in report.index:
        assert completions(out / name) == 1, name


def test_a_second_batch_on_the_same_folder_refuses_naming_the_first(tmp_path):
    # long enough that the first batch still holds the folder when the second starts
    manifest = write_manifest(tmp_path / "batch.toml", models=4, draws=200_000)
    out = tmp_path / "out"
    first = start_cli("batch", manifest, "--jobs", 1, "--out", out)
    try:
        lock = out / ".stanmer-lock"
        wait_for(lambda: lock.is_file() and lock.read_text().strip(), 60, "the first batch's lock")
        assert json.loads(lock.read_text())["pid"] == first.pid

        second = run_cli("batch", manifest, "--jobs", 1, "--out", out)

        assert second.returncode == 2
        assert f"process {first.pid}" in second.stderr and str(out) in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()


def test_models_at_once_times_chains_at_once_stays_within_the_cores():
    four_chains = [FitRequest(f"m{k}", FORMULA, REFERENCE, options={**SAMPLER_DEFAULTS, "chains": 4}) for k in range(6)]

    assert share_cores(1, four_chains, 8) == (1, None, "")
    assert share_cores(2, four_chains, 8) == (2, None, "")
    jobs, chains_at_once, note = share_cores(2, four_chains, 2)
    assert (jobs, chains_at_once) == (2, 1) and "1 chain at a time" in note
    jobs, chains_at_once, note = share_cores(8, four_chains, 4)
    assert (jobs, chains_at_once) == (4, 1) and "--jobs 8 is more than the 4 cores" in note
    assert share_cores(8, four_chains[:1], 4)[:2] == (1, None)  # one model: no more jobs than models, no note


def test_a_run_that_lost_its_folder_s_lock_completes_no_model(tmp_path):
    out = tmp_path / "out"
    claim_output_folder(out, "batch")
    result = ModelResult(Outcome("m0", "ok", 1.0), files={"fit.nc": b"fit", "meta.json": b"{}"}, log=["started"])
    with exclusive(out) as lock:
        write_model(result, out, lock)
        assert (out / "m0" / "meta.json").is_file()
        (out / ".stanmer-lock").unlink()  # the folder was emptied under the run, and another run took it
        (out / ".stanmer-lock").write_text(json.dumps({"pid": 1, "token": "another run"}))

        with pytest.raises(InputError, match="taken over by another run"):
            write_model(result, out, lock)

    assert not (out / "m0" / "meta.json").exists()  # incomplete: a rerun fits it again
