"""A batch on a Dask cluster: each model is one Dask task.

The coordinator (this process) reads each data file once and sends the
table to the cluster; a worker fits and returns the fit's files
(model_task.fit_model), and the coordinator writes them, so workers need no
access to the data or output folders. Dask reruns the task of a worker that
dies; the coordinator writes each model once, when its task's result arrives.

A task asks for as many "cores" (a Dask worker resource) as the chains it
samples at once, so a worker started with `--resources cores=C` runs at most
C cores' worth of models at a time.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pandas as pd

from .fitting import FitRequest
from .io import InputError, read_table
from .model_task import ModelResult, failed_result, fit_model
from .warm_starts import WarmStartOrder

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = 'pip install "stanmer[dask]"'
CONNECT_TIMEOUT = "30s"
WAIT_FOR_WORKERS = 600.0  # seconds: a job queue may take minutes to start the first worker


class SchedulerError(InputError):
    """--scheduler names no usable Dask scheduler."""


def import_distributed():
    try:
        import distributed
    except ImportError:
        raise SchedulerError(f"--scheduler runs the batch on Dask, which is not installed: {INSTALL_HINT}") from None
    return distributed


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator[Client]:
    """A client of `scheduler`: "local:N" (a LocalCluster of N worker
    processes, for this run only), an address (tcp://host:8786) or a
    scheduler file (the JSON `dask scheduler --scheduler-file` writes)."""
    distributed = import_distributed()
    if scheduler.startswith("local:"):
        workers = _worker_count(scheduler)
        cores = max(1, _available_cores() // workers)
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=cores,
            processes=True,
            resources={"cores": cores},
            dashboard_address=":0",  # any free port: another cluster may hold 8787
            silence_logs=logging.ERROR,
        )
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        if "://" in scheduler:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        elif Path(scheduler).is_file():
            client = distributed.Client(scheduler_file=scheduler, timeout=CONNECT_TIMEOUT)
        else:
            raise SchedulerError(
                f"--scheduler {scheduler!r} is neither local:N, an address like tcp://host:8786, "
                "nor an existing scheduler file"
            )
    except OSError as error:  # Dask raises OSError (TimeoutError) when nothing answers
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
    with client:
        yield client


def _worker_count(scheduler: str) -> int:
    count = scheduler.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise SchedulerError(f"--scheduler {scheduler!r}: write local:N with N worker processes, e.g. local:2")
    return int(count)


def _available_cores() -> int:
    from .batch import available_cores

    return available_cores()


def run_on_dask(
    order: WarmStartOrder, scheduler: str, echo: Callable[[str], None] | None
) -> Iterator[tuple[ModelResult, int]]:
    """(result, models still running) for each request, as they finish on `scheduler`."""
    total = len(order.ready) + order.held
    if not total:  # all up to date: no cluster to start or reach
        return
    with connect(scheduler) as client:
        if echo:
            echo(f"Dask scheduler {client.scheduler.address}" + _dashboard(client))
        results = fit_on_dask(order, client, echo)
        for left, result in zip(range(total - 1, -1, -1), results):
            yield result, min(left - order.held, _slots(client))


def _slots(client: Client) -> int:
    """How many tasks the cluster runs at once now (its workers' threads)."""
    return sum(worker["nthreads"] for worker in client.scheduler_info()["workers"].values())


def _dashboard(client: Client) -> str:
    services = client.scheduler_info().get("services", {})
    return f", dashboard {client.dashboard_link}" if "dashboard" in services else ""


def fit_on_dask(
    requests: list[FitRequest] | WarmStartOrder,
    client: Client | None = None,
    echo: Callable[[str], None] | None = None,
) -> Iterator[ModelResult]:
    """Fit each request as a Dask task on `client` (by default, a LocalCluster
    with one worker process per core, for this call only), yielding each
    model's result (outcome and fit files, written nowhere) as it finishes.
    A WarmStartOrder holds back the models that wait for their group's leader."""
    if client is None:
        with connect(f"local:{_available_cores()}") as local:
            yield from fit_on_dask(requests, local, echo)
        return
    order = requests if isinstance(requests, WarmStartOrder) else WarmStartOrder(requests, {})
    distributed = import_distributed()
    tasks = _Tasks(client, echo)
    futures: dict = {}  # submitted task -> its request
    running = distributed.as_completed()
    to_submit = list(order.ready)
    while to_submit or futures:
        while to_submit:
            request = to_submit.pop(0)
            submitted = tasks.submit(request)
            if isinstance(submitted, ModelResult):  # its data could not be read: nothing to send
                to_submit += order.finished(request, submitted)
                yield submitted
            else:
                futures[submitted] = request
                running.add(submitted)
        if futures:
            future = next(running)
            request = futures.pop(future)
            result = _result(future, request)
            to_submit += order.finished(request, result)
            yield result


class _Tasks:
    """Submits requests: each data file sent to the cluster once, each task
    asking for the cores it will use."""

    def __init__(self, client: Client, echo: Callable[[str], None] | None) -> None:
        self.client = client
        self.tables: dict[Path, object] = {}  # data file -> its table on the cluster (a future), or InputError
        self.worker_cores = _worker_cores(client, echo)

    def submit(self, request: FitRequest):
        table = self._table(request)
        if isinstance(table, InputError):
            return failed_result(request, table)
        cores = request.options["chains"]
        if self.worker_cores is not None:  # a task asking for more than any worker has would wait for ever
            cores = min(cores, self.worker_cores)
        return self.client.submit(
            fit_model,
            request,
            cores,
            table,
            key=f"stanmer-{request.name}-{request.spec_hash()}",
            resources=None if self.worker_cores is None else {"cores": cores},
            pure=False,
        )

    def _table(self, request: FitRequest):
        if request.problem:  # fit_model reports it
            return None
        if request.data not in self.tables:
            try:
                # A task that returns the table, rather than scattered data: the
                # scheduler keeps the task and reruns it if the worker holding
                # the table dies (scattered data would be lost with it).
                table = read_table(request.data)
                key = f"stanmer-data-{request.data_sha256}"
                self.tables[request.data] = self.client.submit(_the_table, table, key=key)
            except InputError as error:
                self.tables[request.data] = error
        return self.tables[request.data]


def _the_table(table: pd.DataFrame) -> pd.DataFrame:
    return table


def _worker_cores(client: Client, echo: Callable[[str], None] | None) -> int | None:
    """The most "cores" any worker offers, or None when workers declare none."""
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except TimeoutError:
        raise SchedulerError(
            f"no Dask worker joined the scheduler {client.scheduler.address} within {WAIT_FOR_WORKERS:.0f} s; "
            "start one with `dask worker ADDRESS --resources cores=C`"
        ) from None
    offered = [worker.get("resources", {}).get("cores") for worker in client.scheduler_info()["workers"].values()]
    if any(cores is None for cores in offered):
        if echo:
            echo(
                "note: some Dask workers declare no 'cores' resource, so models are not limited to the "
                "cores they have; start workers with --resources cores=C"
            )
        return None
    return int(max(offered))


def _result(future, request: FitRequest) -> ModelResult:
    try:
        return future.result()
    except Exception as error:  # e.g. KilledWorker: the task's workers died too often
        return failed_result(request, error)

