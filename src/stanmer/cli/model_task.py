"""One model of a batch, in two halves: a worker fits it and sends back its
files (fit_model), and the run that owns the output folder writes them
(write_model). The local process pool and Dask share both halves, so a
worker never writes into the output folder: whatever happens to it, only
the owning run can complete a model's folder.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..atomic import replacing
from ..results.fit import Fit
from ..results.persist import META_FILE, read_meta
from .fitting import FitRequest, fit_request, save_request
from .io import InputError, RunLock, claim_output_folder

LOG_FILE = "log.txt"
COMPLETE = "complete: all files saved"


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


@dataclass
class ModelResult:
    """What a worker sends back: the outcome, the saved fit's files (name ->
    bytes; none when the fit failed) and the lines for the model's log."""

    outcome: Outcome
    files: dict[str, bytes] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.outcome.name


def fit_model(
    request: FitRequest, parallel_chains: int | None = None, table: pd.DataFrame | None = None
) -> ModelResult:
    """Fit one request and return its files; never raises, writes nothing but a private temporary folder.

    `parallel_chains` is how many cores the model may use (not part of the
    spec: the draws do not depend on it); `table` is its data file's table
    when the coordinator read it, else the worker reads the file.
    """
    log: list[str] = []
    note = lambda text: log.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}")  # noqa: E731
    note(f"started (spec {request.spec_hash()}, process {os.getpid()})")
    if request.warm_start is not None:
        note(f"warm start from {request.warm_start[0]}: its metric, step size and last draws, a short warmup")
    started = time.perf_counter()
    try:
        fitted = _fit_noting_warnings(request, parallel_chains, table, note)
        seconds = time.perf_counter() - started
        note(f"fit finished in {seconds:.2f} s (program compiled: {fitted.timings.get('compiled')})")
        with tempfile.TemporaryDirectory(prefix="stanmer-fit-") as private:
            save_request(fitted, request, Path(private), seconds)
            files = {path.name: path.read_bytes() for path in Path(private).iterdir() if path.is_file()}
            outcome = Outcome.from_meta(request.name, "ok", read_meta(private))
        return ModelResult(outcome, files, log)
    except Exception as error:  # any failure is this model's alone; the batch goes on
        note(f"failed: {type(error).__name__}: {error}\n{traceback.format_exc().rstrip()}")
        seconds = round(time.perf_counter() - started, 2)
        return ModelResult(Outcome(request.name, "failed", seconds, error=first_line(error)), log=log)


def failed_result(request: FitRequest, error: BaseException) -> ModelResult:
    """The result of a model that failed outside fit_model (its data unreadable, its worker lost)."""
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} failed: {type(error).__name__}: {error}"
    return ModelResult(Outcome(request.name, "failed", 0.0, error=first_line(error)), log=[line])


def _fit_noting_warnings(
    request: FitRequest, parallel_chains: int | None, table: pd.DataFrame | None, note: Callable[[str], None]
) -> Fit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit_request(request, parallel_chains=parallel_chains, table=table)
    for warning in caught:
        note(f"warning: {warning.category.__name__}: {warning.message}")
    return fitted


def write_model(result: ModelResult, out: Path, lock: RunLock) -> Outcome:
    """Write a worker's result into out/<name>/, in the run that holds `lock`.

    Every file is replaced atomically; meta.json, which marks the folder
    complete, goes last and only after checking this run still owns `out`.
    """
    try:
        folder = claim_output_folder(out / result.name, "fit")
    except InputError as error:  # not our folder: leave it, and its log, alone
        return Outcome(result.name, "failed", 0.0, error=str(error))
    (folder / META_FILE).unlink(missing_ok=True)  # incomplete until the last write
    for leftover in folder.glob(".*.tmp"):  # from a run killed mid-write
        leftover.unlink()
    for name, content in result.files.items():
        if name != META_FILE:
            _write_bytes(folder / name, content)
    _append_log(folder / LOG_FILE, result.log)
    if META_FILE in result.files:
        lock.check()
        _write_bytes(folder / META_FILE, result.files[META_FILE])
        _append_log(folder / LOG_FILE, [f"{time.strftime('%Y-%m-%d %H:%M:%S')} {COMPLETE}"])
    return result.outcome


def _write_bytes(path: Path, content: bytes) -> None:
    with replacing(path) as temporary:
        temporary.write_bytes(content)


def _append_log(path: Path, lines: list[str]) -> None:
    # Appended: the log keeps every attempt, killed ones included.
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"
