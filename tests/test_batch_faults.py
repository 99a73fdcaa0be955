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
    manifest = write_manifest(tmp_path / "batch.toml", models=4)
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
