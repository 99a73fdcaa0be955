"""Faults with real processes: `stanmer fit` interrupted (SIGINT) or killed
(SIGKILL) while it starts and while it samples, on stanli and pystan; a
damaged cache entry; an engine that crashes.

Afterwards no process the fit started may still run, nothing half-written
may be left in --out, and the same command must then complete.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stanmer.engines import PystanEngine, StanliEngine
from stanmer.engines.stanli import _MIR_BY_PATH, mir_path
from stanmer.errors import EngineError
from stanmer.sampling import SamplerOptions

# What Ctrl-C must take at most, from the signal to KeyboardInterrupt's message.
INTERRUPT_SECONDS = 2.0
# The whole process exits later: the interpreter's teardown of numpy, pandas,
# arviz and friends alone takes seconds on a loaded machine.
EXIT_SECONDS = 20.0

pystan_installed = pytest.mark.skipif(not PystanEngine().available(), reason="pystan is not installed")


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / "d.csv"
    pd.DataFrame({"y": rng.normal(size=30), "x": rng.normal(size=30), "g": list("abc") * 10}).to_csv(path, index=False)
    return path


def stanmer_fit(data: Path, out: Path, engine: str, draws: int) -> list[str]:
    # --verbose: the engine's own lines ("Iteration", "Building:", "Sampling:") mark where the run is.
    return [
        sys.executable, "-m", "stanmer", "fit", "y ~ x", "--data", str(data), "--out", str(out),
        "--engine", engine, "--chains", "2", "--warmup", "100", "--draws", str(draws), "--seed", "1", "--verbose",
    ]  # fmt: skip


class Watched:
    """A process whose output (stdout and stderr) is read in the background, line by line."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[tuple[float, str]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for _, line in self.lines):
            assert time.monotonic() < deadline, f"never saw {text!r}: {self.text()[-2000:]}"
            assert self.process.poll() is None, f"ended early: {self.text()[-2000:]}"
            time.sleep(0.05)

    def text(self) -> str:
        return "".join(line for _, line in self.lines)

    def descendants(self) -> set[int]:
        return _descendants(self.process.pid)


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has stopped; only its parent's wait() is missing


def assert_all_gone(pids: set[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if _running(pid)], "processes left running"


def interrupt_and_check(run: Watched, out: Path) -> None:
    helpers = run.descendants()
    sent = time.monotonic()
    run.process.send_signal(signal.SIGINT)
    run.process.wait(timeout=EXIT_SECONDS)
    assert run.process.returncode == 130, run.text()[-2000:]
    run.reader.join(timeout=5)
    said = [at for at, line in run.lines if "stanmer: interrupted" in line]
    assert said and said[0] - sent < INTERRUPT_SECONDS, run.text()[-2000:]
    assert "Traceback" not in run.text()
    assert_all_gone(helpers)
    assert not out.exists()  # nothing was sampled to the end, so nothing was written


def kill_and_check(run: Watched, out: Path) -> None:
    helpers = run.descendants()
    run.process.send_signal(signal.SIGKILL)
    run.process.wait(timeout=EXIT_SECONDS)
    assert_all_gone(helpers)
    assert not out.exists()


def rerun_completes(data: Path, out: Path, engine: str, cwd: Path) -> None:
    done = subprocess.run(stanmer_fit(data, out, engine, draws=50) + ["--quiet"], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "meta.json").is_file()


def faults_on(engine: str, starting_marker: str | None, sampling_marker: str, data_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    if starting_marker:  # while compiling or loading the build
        run = Watched(stanmer_fit(data_file, out, engine, draws=500_000), tmp_path)
        run.wait_for(starting_marker, timeout=600)
        interrupt_and_check(run, out)
    # while sampling
    run = Watched(stanmer_fit(data_file, out, engine, draws=500_000), tmp_path)
    run.wait_for(sampling_marker, timeout=600)
    interrupt_and_check(run, out)
    run = Watched(stanmer_fit(data_file, out, engine, draws=500_000), tmp_path)
    run.wait_for(sampling_marker, timeout=600)
    kill_and_check(run, out)
    rerun_completes(data_file, out, engine, tmp_path)


def test_stanli_fit_stops_cleanly_on_sigint_and_sigkill(data_file: Path, tmp_path: Path) -> None:
    # stanli compiles in milliseconds: there is no "while compiling" to hit.
    faults_on("stanli", None, "Iteration", data_file, tmp_path)


@pytest.mark.pystan
@pystan_installed
def test_pystan_fit_stops_cleanly_on_sigint_and_sigkill(data_file: Path, tmp_path: Path) -> None:
    # The first run of this program on a machine compiles it (about a minute),
    # which the "while sampling" steps wait out.
    faults_on("pystan", "Building:", "Sampling:", data_file, tmp_path)


# --- the cache ------------------------------------------------------------------

PROGRAM = "parameters { real mu; } model { mu ~ normal(1, 1); }"


@pytest.mark.parametrize(
    "damage",
    [lambda text: text[: len(text) // 2], lambda text: "garbage", lambda text: text + "\nextra", lambda text: ""],
    ids=["truncated", "garbage", "appended", "empty"],
)
def test_damaged_stanli_cache_entry_is_rebuilt_with_a_warning(damage) -> None:
    StanliEngine().compile(PROGRAM)
    path = mir_path(PROGRAM)
    path.write_text(damage(path.read_text()))
    _MIR_BY_PATH.clear()  # as a new process would start

    with pytest.warns(UserWarning, match="cached stanli program .* unusable"):
        rebuilt = StanliEngine().compile(PROGRAM)
    draws = rebuilt.sample({}, SamplerOptions(chains=1, warmup=50, draws=50, seed=1, show_progress=False))

    assert rebuilt.compiled and draws.variables["mu"].shape == (1, 50)
    _MIR_BY_PATH.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not StanliEngine().compile(PROGRAM).compiled  # the rebuilt entry is sound


@pystan_installed
def test_damaged_httpstan_build_is_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpstan.cache

    from stanmer.engines.pystan import _discard_broken_build

    name = "models/stanmertestbroken"
    folder = _cached_build(name, b"\x7fELF truncated", with_compiler_log=True)  # finished, as far as its files tell
    try:
        with pytest.warns(UserWarning, match="stanmertestbroken is damaged"):
            _discard_broken_build(name)
        assert not folder.exists()
    finally:
        httpstan.cache.delete_model_directory(name)


@pystan_installed
def test_httpstan_build_without_its_compiler_log_is_deleted() -> None:
    # A build whose request timed out keeps its module but not its log, and
    # httpstan then fails every later build of it with a server error.
    import httpstan.cache

    from stanmer.engines.pystan import _discard_broken_build

    name = "models/stanmertestnolog"
    folder = _cached_build(name, b"\x7fELF", with_compiler_log=False)
    try:
        with pytest.warns(UserWarning, match="stanmertestnolog has no compiler log"):
            _discard_broken_build(name)
        assert not folder.exists()
    finally:
        httpstan.cache.delete_model_directory(name)


@pystan_installed
def test_a_server_failure_while_building_is_not_blamed_on_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    import stan

    from stanmer.engines.pystan import _build

    def server_error(*args, **kwargs):  # what pystan raises on httpstan's plain-text 500
        raise ValueError("TAPE_ERROR: The JSON document has an improper structure")

    monkeypatch.setattr(stan, "build", server_error)
    with pytest.raises(EngineError, match="httpstan's server failed, not the program") as raised:
        _build("parameters { real mu; }", {}, seed=1, verbose=False)
    assert "Syntax error" not in str(raised.value)


def _cached_build(name: str, module: bytes, with_compiler_log: bool) -> Path:
    """httpstan's cache folder for model `name` holding `module` as its extension."""
    import httpstan.cache

    from stanmer.engines.pystan import COMPILER_LOG

    folder = httpstan.cache.model_directory(name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"stan_services_{name.split('/')[1]}{_suffix()}").write_bytes(module)
    if with_compiler_log:
        (folder / COMPILER_LOG).write_text("")
    return folder


def _suffix() -> str:
    import importlib.machinery

    return importlib.machinery.EXTENSION_SUFFIXES[0]


# --- engine crashes -------------------------------------------------------------

# test_engines' program: built once for the engine tests, so reused here.
from test_engines import DATA as BUILT_DATA  # noqa: E402
from test_engines import PROGRAM as BUILT_PROGRAM  # noqa: E402


@pytest.mark.pystan
@pystan_installed
def test_pystan_crash_is_reported_as_a_crash_and_retried_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import stan.model

    from stanmer.engines.pystan import EngineRetryWarning

    real_sample = stan.model.Model.sample
    crashes = tmp_path / "crashes"

    def flaky_sample(self, **kwargs):
        # The first run (a child process) crashes as httpstan's progress handler once did.
        if not crashes.exists():
            crashes.write_text("1")
            raise IndexError("pop from empty list")
        return real_sample(self, **kwargs)

    monkeypatch.setattr(stan.model.Model, "sample", flaky_sample)
    program = PystanEngine().compile(BUILT_PROGRAM, show_progress=False)
    options = SamplerOptions(chains=1, warmup=50, draws=50, seed=1, show_progress=False)

    with pytest.warns(EngineRetryWarning, match="IndexError: pop from empty list.*trying once more"):
        draws = program.sample(BUILT_DATA, options)
    assert draws.variables["mu"].shape == (1, 50)

    def always_crash(self, **kwargs):
        raise IndexError("pop from empty list")

    monkeypatch.setattr(stan.model.Model, "sample", always_crash)
    with pytest.warns(EngineRetryWarning), pytest.raises(EngineError, match="(?s)crashed while sampling, twice.*IndexError") as raised:
        program.sample(BUILT_DATA, options)
    assert "Initialization" not in str(raised.value)


@pytest.mark.pystan
@pystan_installed
def test_pystan_interrupt_in_process_raises_keyboard_interrupt_quickly() -> None:
    program = PystanEngine().compile(BUILT_PROGRAM, show_progress=False)
    timer = threading.Timer(3.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        program.sample(BUILT_DATA, SamplerOptions(chains=2, warmup=100, draws=2_000_000, seed=1, show_progress=False))
    assert time.monotonic() - started < 3.0 + INTERRUPT_SECONDS
    timer.cancel()



@pytest.mark.pystan
@pystan_installed
def test_pystan_runs_one_after_another_when_this_process_imported_stan() -> None:
    # httpstan's worker pool, made at import, used to be shared through fork by
    # every run; a later run then could wait for good on a lock held by a worker
    # killed with an earlier run's process group (about 1 run in 10 here: 12
    # runs caught it in 7 of 10 tries).
    import subprocess as sp

    script = (
        "import stan\n"  # as a user's notebook may, before stanmer runs pystan
        "from stanmer.engines import PystanEngine\n"
        "from stanmer.sampling import SamplerOptions\n"
        "from test_engines import PROGRAM, DATA\n"
        "program = PystanEngine().compile(PROGRAM, show_progress=False)\n"
        "for seed in range(1, 13):\n"
        "    program.sample(DATA, SamplerOptions(chains=2, warmup=50, draws=50, seed=seed, show_progress=False))\n"
        "print('all runs')\n"
    )
    # In a subprocess with a deadline: the failure this guards against is a hang.
    done = sp.run([sys.executable, "-c", script], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "all runs" in done.stdout, done.stderr[-2000:]


def test_ctrl_c_during_the_fork_of_an_engine_child_still_interrupts() -> None:
    # Python drops a KeyboardInterrupt raised in fork's own handlers; a Ctrl-C
    # landing there once left the fit running. Here SIGINT is sent from such a handler.
    script = (
        "import os, signal, time\n"
        "from stanmer.engines.isolated import run_isolated\n"
        "armed = [True]\n"
        "def interrupt_once():\n"
        "    if armed:\n"
        "        armed.clear()\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "os.register_at_fork(after_in_parent=interrupt_once)\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    run_isolated(lambda: time.sleep(60))\n"
        "except KeyboardInterrupt:\n"
        "    print(f'interrupted after {time.monotonic() - started:.2f} s')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    said = done.stdout.split()
    assert said[:2] == ["interrupted", "after"] and float(said[2]) < INTERRUPT_SECONDS, done.stdout + done.stderr
