"""Fit many models in parallel processes, resumably.

Each model gets OUT/<name>/ with the fit files and log.txt. meta.json is
written last and records the request's spec hash, so a rerun skips the
models whose folder is complete for the same spec and redoes the rest.
Workers fit and send the files back; this process alone writes them
(model_task), and only while it holds the folder's lock. Workers end when
this process ends. With a Dask scheduler the models run as Dask tasks instead
(distributed.py), written the same way.

Each distinct program is compiled once, up front and in parallel, into the
engine's on-disk cache; then every model runs, and each finds its program
built. So no two processes ever compile one program at once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from .. import api
from ..atomic import write_csv
from ..codegen import executable_text
from ..results.persist import is_complete, read_meta
from .fitting import FitRequest, parse_family
from .io import claim_output_folder, exclusive, read_table
from .model_task import ModelResult, Outcome, failed_result, fit_model, write_model
from .priors import parse_prior
from .warm_starts import WarmStartOrder

REPORT_FILE = "report.csv"


def run_batch(
    requests: list[FitRequest],
    out: Path,
    jobs: int = 1,
    echo: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    warm_start: bool = False,
) -> list[Outcome]:
    """Fit every request not already done into out/<name>/; write out/report.csv.

    `scheduler` (a Dask scheduler address or file, or "local:N") runs the
    models on Dask instead of `jobs` local processes. `warm_start`: models
    of one program start from the first of them to finish (cli.warm_starts).
    """
    claim_output_folder(out, "batch")
    with exclusive(out) as lock:
        progress = Progress(len(requests), echo)
        outcomes: dict[str, Outcome] = {}
        to_run = []
        for request in requests:
            if is_up_to_date(out / request.name, request):
                outcomes[request.name] = Outcome.from_meta(request.name, "skipped", read_meta(out / request.name))
                progress.finished(outcomes[request.name], running=0)
            else:
                to_run.append(request)
        # built once: the local pool compiles each distinct program up front, warm starts group by them
        programs = programs_of(to_run) if scheduler is None or warm_start else {}
        order = WarmStartOrder(to_run, programs if warm_start else {})
        if scheduler is None:
            results = _run_in_processes(order, programs, jobs, echo)
        else:
            from .distributed import run_on_dask  # imports dask: only when asked for

            results = run_on_dask(order, scheduler, echo)
        for result, running in results:
            outcomes[result.name] = write_model(result, out, lock)
            progress.finished(outcomes[result.name], running)
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


def _run_in_processes(
    order: WarmStartOrder, programs: dict[str, str | None], jobs: int, echo: Callable[[str], None] | None
) -> Iterator[tuple[ModelResult, int]]:
    """(result, models still running or waiting) as each model finishes."""
    requests = order.ready + order.waiting()
    if not requests:
        return
    jobs, parallel_chains, note = share_cores(jobs, requests, available_cores())
    if note and echo:
        echo(note)
    # forkserver: workers fork from a clean process that has imported stanmer
    # once, rather than from this one (forking a threaded process can hang).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    ) as pool:
        try:
            yield from _schedule(pool, order, distinct_programs(requests, programs), jobs, parallel_chains)
        except BaseException:  # Ctrl-C: stop now; the models cut short have no meta.json, so a rerun redoes them
            pool.shutdown(wait=False, cancel_futures=True)
            for worker in multiprocessing.active_children():
                worker.terminate()
            raise


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def share_cores(jobs: int, requests: list[FitRequest], cores: int) -> tuple[int, int | None, str]:
    """(models at once, chains each samples at once or None for all, what was lowered and why),
    so that models at once x chains at once stays within `cores`."""
    notes = []
    wanted = jobs
    jobs = min(jobs, cores, len(requests))
    if jobs < wanted and jobs < len(requests):
        notes.append(f"--jobs {wanted} is more than the {cores} cores here: fitting {jobs} models at once")
    per_model = max(1, cores // jobs)
    most_chains = max(request.options["chains"] for request in requests)
    parallel_chains = None
    if most_chains > per_model:
        parallel_chains = per_model
        notes.append(
            f"{jobs} models at once x {most_chains} chains would oversubscribe {cores} cores: "
            f"each model samples {per_model} chain{'s' * (per_model > 1)} at a time"
        )
    return jobs, parallel_chains, "; ".join(notes)


def _start_worker(batch_pid: int) -> None:
    # Ctrl-C reaches every process of the terminal's group; the parent alone
    # decides what stops (a worker inside the sampler would not notice anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(batch_pid)


def die_with(batch_pid: int) -> None:
    """End this worker when the batch process ends, however it ends (kill -9 included).

    An orphan would keep fitting for nobody: its results have no one to write
    them. The batch is not the worker's parent (the forkserver is, and it
    lives as long as its workers), so a thread watches the batch's pid.
    """
    started = _start_time(batch_pid)

    def watch() -> None:
        while _is_running(batch_pid, started):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="stanmer-batch-watch", daemon=True).start()


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux), so a recycled pid is not taken for it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _is_running(pid: int, started: str | None) -> bool:
    if started is not None:  # Linux: a dead batch awaiting its parent's wait() is a zombie, "Z"
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return fields[0] != "Z" and fields[19] == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else: the pid was recycled
        return False
    return True


def _schedule(
    pool: ProcessPoolExecutor,
    order: WarmStartOrder,
    programs: list[tuple[str, str]],
    jobs: int,
    parallel_chains: int | None,
) -> Iterator[tuple[ModelResult, int]]:
    """Every distinct (program, engine) compiled first, then every model fitted (in `order`)."""
    compiles = [pool.submit(compile_program, program, engine) for program, engine in programs]
    wait(compiles)  # a failed compile is left for its models to meet and record
    pending = {_submit(pool, request, parallel_chains): request for request in order.ready}
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            request = pending.pop(future)
            result = _result(future, request)
            for released in order.finished(request, result):
                pending[_submit(pool, released, parallel_chains)] = released
            yield result, min(len(pending), jobs)


def distinct_programs(requests: list[FitRequest], programs: dict[str, str | None]) -> list[tuple[str, str]]:
    """(program as engines compile it, engine name) for each distinct pair, in order.

    A request whose program could not be built here (None in `programs_of`:
    bad formula, bad data) is left out: its worker will hit the same failure
    and record it properly.
    """
    found = {(programs[r.name], r.options["engine"]): None for r in requests if programs[r.name] is not None}
    return list(found)


def programs_of(requests: list[FitRequest]) -> dict[str, str | None]:
    """Each request's program as engines compile it; None when it cannot be built here."""
    tables: dict[Path, pd.DataFrame] = {}
    return {request.name: _program(request, tables) for request in requests}


def _program(request: FitRequest, tables: dict[Path, pd.DataFrame]) -> str | None:
    try:
        if request.data not in tables:
            tables[request.data] = read_table(request.data)
        priors = [parse_prior(text) for text in request.priors]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the worker logs them
            rows = request.rows(tables[request.data])
            program = api.stan_code(
                request.formula, rows, parse_family(request.family), priors, request.weights,
                request.options.get("centered"),
            )
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


def _submit(pool: ProcessPoolExecutor, request: FitRequest, parallel_chains: int | None) -> Future:
    try:
        return pool.submit(fit_model, request, parallel_chains)
    except BrokenProcessPool as error:  # a worker died hard; fail what is left
        failed: Future = Future()
        failed.set_exception(error)
        return failed


def _result(future: Future, request: FitRequest) -> ModelResult:
    try:
        return future.result()
    except BrokenProcessPool as error:
        return failed_result(request, RuntimeError(f"the worker process died: {error}"))
