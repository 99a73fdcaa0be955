"""Fit many models in parallel processes, resumably.

Each model gets OUT/<name>/ with the fit files and log.txt. meta.json is
written last and records the request's spec hash, so a rerun skips the
models whose folder is complete for the same spec and redoes the rest.

Each distinct program is compiled once, up front and in parallel, into the
engine's on-disk cache; then every model runs, and each finds its program
built. So no two processes ever compile one program at once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from .. import api
from ..atomic import write_csv
from ..codegen import executable_text
from ..results.fit import Fit
from ..results.persist import META_FILE, is_complete, read_meta
from .fitting import FitRequest, fit_request, parse_family, save_request
from .io import InputError, claim_output_folder, exclusive, read_table
from .priors import parse_prior

REPORT_FILE = "report.csv"
LOG_FILE = "log.txt"


@dataclass
class Outcome:
    """One row of report.csv."""

    name: str
    status: str  # ok, failed or skipped (complete from an earlier run)
    seconds: float  # reading the data and fitting, in the run that made the fit
    max_rhat: float | None = None
    divergences: int | None = None
    min_ess: float | None = None
    error: str = ""

    @classmethod
    def from_meta(cls, name: str, status: str, meta: dict[str, Any]) -> Outcome:
        found = meta["diagnostics"]
        return cls(
            name,
            status,
            round(meta["run_seconds"], 2),
            round(found["max_rhat"], 4),
            found["divergences"],
            round(min(found["min_ess_bulk"], found["min_ess_tail"]), 1),
        )


def run_batch(
    requests: list[FitRequest], out: Path, jobs: int = 1, echo: Callable[[str], None] | None = None
) -> list[Outcome]:
    """Fit every request not already done into out/<name>/; write out/report.csv."""
    claim_output_folder(out, "batch")
    with exclusive(out):
        progress = Progress(len(requests), echo)
        outcomes: dict[str, Outcome] = {}
        to_run = []
        for request in requests:
            if is_up_to_date(out / request.name, request):
                outcomes[request.name] = Outcome.from_meta(request.name, "skipped", read_meta(out / request.name))
                progress.finished(outcomes[request.name], running=0)
            else:
                to_run.append(request)
        for outcome, running in _run_in_processes(to_run, out, jobs):
            outcomes[outcome.name] = outcome
            progress.finished(outcome, running)
        ordered = [outcomes[request.name] for request in requests]
        write_csv(out / REPORT_FILE, pd.DataFrame([asdict(o) for o in ordered]))
    return ordered


def is_up_to_date(folder: Path, request: FitRequest) -> bool:
    return is_complete(folder) and read_meta(folder).get("request", {}).get("spec_hash") == request.spec_hash()


class Progress:
    """One line per finished model, with counts so far."""

    def __init__(self, total: int, echo: Callable[[str], None] | None) -> None:
        self.total, self.echo = total, echo
        self.done = self.failed = 0

    def finished(self, outcome: Outcome, running: int) -> None:
        if outcome.status == "failed":
            self.failed += 1
        else:
            self.done += 1
        if self.echo:
            counted = self.done + self.failed
            line = (
                f"[{counted}/{self.total}] {outcome.status:7} {outcome.name} ({outcome.seconds:.1f} s)"
                f"  done {self.done}, failed {self.failed}, running {running}"
            )
            self.echo(line + (f"\n    {outcome.error}" if outcome.error else ""))


# --- scheduling ------------------------------------------------------------------


def _run_in_processes(requests: list[FitRequest], out: Path, jobs: int) -> Iterator[tuple[Outcome, int]]:
    """(outcome, models still running) as each model finishes."""
    if not requests:
        return
    # forkserver: workers fork from a clean process that has imported stanmer
    # once, rather than from this one (forking a threaded process can hang).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_leave_interrupts_to_parent) as pool:
        try:
            yield from _schedule(pool, requests, out, jobs)
        except BaseException:  # Ctrl-C: stop now; the models cut short have no meta.json, so a rerun redoes them
            pool.shutdown(wait=False, cancel_futures=True)
            for worker in multiprocessing.active_children():
                worker.terminate()
            raise


def _leave_interrupts_to_parent() -> None:
    # Ctrl-C reaches every process of the terminal's group; the parent alone
    # decides what stops (a worker inside the sampler would not notice anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _schedule(
    pool: ProcessPoolExecutor, requests: list[FitRequest], out: Path, jobs: int
) -> Iterator[tuple[Outcome, int]]:
    """Every distinct program compiled first, then every model fitted."""
    compiles = [pool.submit(compile_program, program, engine) for program, engine in distinct_programs(requests)]
    wait(compiles)  # a failed compile is left for its models to meet and record
    pending = {_submit(pool, request, out): request for request in requests}
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            request = pending.pop(future)
            yield _outcome(future, request), min(len(pending), jobs)


def distinct_programs(requests: list[FitRequest]) -> list[tuple[str, str]]:
    """(program as engines compile it, engine name) for each distinct pair, in order.

    A request whose program cannot be built here (bad formula, bad data) is
    left out: its worker will hit the same failure and record it properly.
    """
    found: dict[tuple[str, str], None] = {}
    tables: dict[Path, pd.DataFrame] = {}
    for request in requests:
        program = _program(request, tables)
        if program is not None:
            found[(program, request.options["engine"])] = None
    return list(found)


def _program(request: FitRequest, tables: dict[Path, pd.DataFrame]) -> str | None:
    try:
        if request.data not in tables:
            tables[request.data] = read_table(request.data)
        priors = [parse_prior(text) for text in request.priors]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the worker logs them
            rows = request.rows(tables[request.data])
            program = api.stan_code(request.formula, rows, parse_family(request.family), priors, request.weights)
        return executable_text(program)
    except Exception:
        return None


def compile_program(program: str, engine: str) -> None:
    """Build `program` into `engine`'s cache, in a worker process."""
    from ..engines import get_engine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fallback warning reaches the log when the model runs
        try:
            get_engine(engine).compile(program, show_progress=False)
        except Exception:  # the models of this program meet the same failure and record it
            pass


def _submit(pool: ProcessPoolExecutor, request: FitRequest, out: Path) -> Future:
    try:
        return pool.submit(run_model, request, str(out))
    except BrokenProcessPool as error:  # a worker died hard; fail what is left
        failed: Future = Future()
        failed.set_exception(error)
        return failed


def _outcome(future: Future, request: FitRequest) -> Outcome:
    try:
        return future.result()
    except BrokenProcessPool as error:
        return Outcome(request.name, "failed", 0.0, error=f"the worker process died: {error}")


# --- one model, in a worker process -------------------------------------------------


def run_model(request: FitRequest, out: str) -> Outcome:
    """Fit one request into out/<name>/, logging to its log.txt; never raises."""
    try:
        folder = claim_output_folder(Path(out) / request.name, "fit")
    except InputError as error:  # not our folder: leave it, and its log, alone
        return Outcome(request.name, "failed", 0.0, error=str(error))
    (folder / META_FILE).unlink(missing_ok=True)  # incomplete until save_request's last write
    for leftover in folder.glob(".*.tmp"):  # from a run killed mid-write
        leftover.unlink()
    log = folder / LOG_FILE
    _log(log, f"started (spec {request.spec_hash()}, process {os.getpid()})")
    started = time.perf_counter()
    try:
        fitted = _fit_logging_warnings(request, log)
        seconds = time.perf_counter() - started
        _log(log, f"fit finished in {seconds:.2f} s (program compiled: {fitted.timings.get('compiled')})")
        save_request(fitted, request, folder, seconds)
        _log(log, "complete: all files saved")
        return Outcome.from_meta(request.name, "ok", read_meta(folder))
    except Exception as error:  # any failure is this model's alone; the batch goes on
        _log(log, f"failed: {type(error).__name__}: {error}\n{traceback.format_exc()}")
        return Outcome(request.name, "failed", round(time.perf_counter() - started, 2), error=_first_line(error))


def _fit_logging_warnings(request: FitRequest, log: Path) -> Fit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit_request(request)
    for warning in caught:
        _log(log, f"warning: {warning.category.__name__}: {warning.message}")
    return fitted


def _log(path: Path, text: str) -> None:
    # Appended line by line: the log keeps every attempt, killed ones included.
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"
