"""`stanmer batch --warm-start`: the models of one program wait for the first
of them and start from its adaptation (cli.warm_starts), on the process
pool and on Dask."""

from __future__ import annotations

import json

import pytest

from batch_runs import ROOT
from stanmer.cli.batch import programs_of, run_batch
from stanmer.cli.fitting import FitRequest
from stanmer.cli.manifest import load_manifest
from stanmer.cli.model_task import ModelResult, Outcome
from stanmer.cli.warm_starts import WarmStartOrder
from stanmer.results.persist import ADAPTATION_FILE
from stanmer.warm_start import WARMUP_OTHER_DATA


def request(name: str, **options) -> FitRequest:
    return FitRequest(name, "y ~ x + (1 | g)", ROOT / "data.csv", options={"chains": 2, **options})


def result(name: str, adaptation: dict | None) -> ModelResult:
    files = {} if adaptation is None else {ADAPTATION_FILE: json.dumps(adaptation).encode()}
    return ModelResult(Outcome(name, "ok" if files else "failed", 1.0), files)


def test_a_group_waits_for_its_leader_and_a_failed_leader_passes_the_lead_on():
    requests = [request("a"), request("b"), request("c"), request("d", method="optimize"), request("e")]
    programs = {"a": "P", "b": "P", "c": "P", "d": "P", "e": None}
    order = WarmStartOrder(requests, programs)
    assert [r.name for r in order.ready] == ["a", "d", "e"] and order.held == 2

    assert [r.name for r in order.finished(requests[0], result("a", None))] == ["b"]  # a failed: b leads, cold
    assert order.held == 1
    released = order.finished(requests[1], result("b", {"step_size": 0.5}))
    assert [(r.name, r.warm_start) for r in released] == [("c", ("b", {"step_size": 0.5}))]
    assert order.held == 0 and order.finished(requests[4], result("e", None)) == []


def _small_example(folder):
    """examples/batch/ifsc.toml (four models, one program) with 2 short chains."""
    text = (ROOT / "examples" / "batch" / "ifsc.toml").read_text()
    text = text.replace('"../ifsc/', f'"{ROOT}/examples/ifsc/').replace("chains = 4", "chains = 2")
    text = text.replace("draws = 1000", "draws = 400").replace("warmup = 1000", "warmup = 400")
    (folder / "ifsc.toml").write_text(text)
    return folder / "ifsc.toml"


@pytest.mark.parametrize("scheduler", [None, "local:2"])
def test_members_start_from_the_leader(tmp_path, scheduler):
    if scheduler is not None:
        pytest.importorskip("distributed")
    requests = load_manifest(_small_example(tmp_path))
    assert len(set(programs_of(requests).values())) == 1
    out = tmp_path / "out"

    outcomes = run_batch(requests, out, jobs=2, scheduler=scheduler, warm_start=True)

    assert [o.status for o in outcomes] == ["ok"] * 4
    metas = {o.name: json.loads((out / o.name / "meta.json").read_text()) for o in outcomes}
    leaders = [name for name, meta in metas.items() if meta["request"]["warm_start_from"] is None]
    assert len(leaders) == 1
    for name, meta in metas.items():
        if name in leaders:
            continue
        assert meta["request"]["warm_start_from"] == leaders[0]
        # the manifest's warmup is the leader's; a member's is its warm start's (every member here
        # has other sizes than the leader: other athletes or population columns)
        assert metas[leaders[0]]["sampler"]["warmup"] == 400 and meta["sampler"]["warmup"] == WARMUP_OTHER_DATA
        assert "warm start" in (out / name / "log.txt").read_text()
        # 2 x 400 draws: cold fits of these models reach 1.06; a member left on a
        # mapped metric without re-adapting it reached 1.39
        assert meta["diagnostics"]["max_rhat"] < 1.1
