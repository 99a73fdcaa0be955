"""`stanmer batch --scheduler` on a real Dask LocalCluster of worker processes (issue 12)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

import pandas as pd
import psutil
import pytest

from batch_runs import (
    ROOT,
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
from stanmer.cli.batch import run_batch
from stanmer.cli.distributed import SchedulerError
from stanmer.cli.manifest import load_manifest

distributed = pytest.importorskip("distributed")


def _small_example(folder):
    """examples/batch/ifsc.toml with 2 chains of 150 draws, so the test is quick."""
    text = (ROOT / "examples" / "batch" / "ifsc.toml").read_text()
    text = text.replace('"../ifsc/', f'"{ROOT}/examples/ifsc/')
    text = text.replace("chains = 4", "chains = 2").replace("warmup = 1000", "warmup = 150")
    text = text.replace("draws = 1000", "draws = 150")
    (folder / "ifsc.toml").write_text(text)
    return folder / "ifsc.toml"


def test_local_cluster_fits_the_example_batch_as_the_process_pool_does(tmp_path):
    manifest = _small_example(tmp_path)

    pool = run_cli("batch", manifest, "--jobs", 2, "--out", tmp_path / "pool")
    dask = run_cli("batch", manifest, "--scheduler", "local:2", "--out", tmp_path / "dask")

    assert pool.returncode == 0 and dask.returncode == 0, dask.stderr
    assert "dashboard http" in dask.stderr and dask.stderr.count("] ok ") == 4
    names = list(assert_outputs_match(manifest, tmp_path / "dask").index)
    assert len(names) == 4
    for name in names:  # same seeds, same draws on stanli: the summaries agree exactly
        on_pool = pd.read_csv(tmp_path / "pool" / name / "summary.csv", index_col=0)
        on_dask = pd.read_csv(tmp_path / "dask" / name / "summary.csv", index_col=0)
        pd.testing.assert_frame_equal(on_pool, on_dask)

    again = run_cli("batch", manifest, "--scheduler", "local:2", "--out", tmp_path / "dask")
    assert again.returncode == 0 and "4 skipped" in again.stdout


def test_a_killed_worker_s_model_is_rerun_elsewhere_and_written_once(tmp_path):
    manifest = write_manifest(tmp_path / "batch.toml", models=6)
    out = tmp_path / "out"
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        resources={"cores": 1},
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster) as client:
        killed = []
        pids = client.run(os.getpid)  # worker address -> its process


        def kill_a_busy_worker() -> None:
            deadline = time.monotonic() + RUN_TIMEOUT
            while time.monotonic() < deadline and not killed:
                busy = [address for address, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(1.0)  # well inside the fit
                    if busy[0] in pids and client.processing().get(busy[0]):
                        psutil.Process(pids[busy[0]]).kill()
                        killed.append(pids[busy[0]])
                time.sleep(0.05)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        outcomes = run_batch(load_manifest(manifest), out, scheduler=cluster.scheduler_address)
        killer.join(timeout=10)

    assert killed, "a worker should have been killed mid-model"
    assert [o.status for o in outcomes] == ["ok"] * 6, [o.error for o in outcomes]
    assert_outputs_match(manifest, out)
    for outcome in outcomes:
        assert completions(out / outcome.name) == 1, outcome.name


def test_killing_the_coordinator_stops_its_workers_and_a_rerun_resumes(tmp_path):
    manifest = write_manifest(tmp_path / "batch.toml", models=8)
    out = tmp_path / "out"
    coordinator = start_cli("batch", manifest, "--scheduler", "local:2", "--out", out)
    try:
        wait_for(lambda: list(out.glob("*/meta.json")), RUN_TIMEOUT, "a first finished model")
        workers = descendants(coordinator.pid)
        assert workers, "the LocalCluster's workers should be running"
    finally:
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
    assert_all_gone(workers, timeout=30)
    finished = {path.parent.name for path in out.glob("*/meta.json")}

    rerun = run_cli("batch", manifest, "--jobs", 2, "--out", out)

    assert rerun.returncode == 0, rerun.stderr
    report = assert_outputs_match(manifest, out)
    for name in report.index:
        assert report.loc[name, "status"] == ("skipped" if name in finished else "ok")
        assert completions(out / name) == 1, name


@pytest.mark.parametrize(
    "scheduler, message",
    [
        ("local:0", "local:N"),
        ("local:two", "local:N"),
        ("no-such-file.json", "neither local:N"),
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler"),
    ],
)
def test_an_unusable_scheduler_is_refused_before_any_fit(tmp_path, monkeypatch, scheduler, message):
    monkeypatch.setattr("stanmer.cli.distributed.CONNECT_TIMEOUT", "2s")
    manifest = write_manifest(tmp_path / "batch.toml", models=1)
    with pytest.raises(SchedulerError, match=message):
        run_batch(load_manifest(manifest), tmp_path / "out", scheduler=scheduler)
    assert not list((tmp_path / "out").glob("*/meta.json"))


def test_without_dask_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    manifest = write_manifest(tmp_path / "batch.toml", models=1)
    with pytest.raises(SchedulerError, match=r'pip install "stanmer\[dask\]"'):
        run_batch(load_manifest(manifest), tmp_path / "out", scheduler="local:2")
