"""Run an engine call in a child process that can always be stopped.

pystan runs Stan in httpstan's process pool, whose workers ignore SIGINT,
inside an event loop that swallows the first Ctrl-C: an interrupted fit ran
to its end, and a killed Python left the workers behind. Here the call runs
in a forked child that leads its own process group (so the workers it
starts join that group): Ctrl-C in the parent kills the whole group at once,
and the child kills its group itself when its parent disappears (kill -9).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from typing import Any, Callable, Iterator, TypeVar

from ..errors import StanmerError

_Result = TypeVar("_Result")

# How often the parent looks for the child's answer and the child for its parent.
_POLL_SECONDS = 0.1


class EngineCrash(Exception):
    """The engine failed in a way that is no verdict on the model: an
    unexpected exception in its own code (`kind`, `message`, with the
    traceback text in `details`), or its process ended without an answer."""

    def __init__(self, kind: str, message: str, details: str = "") -> None:
        super().__init__(kind, message, details)  # args as given, so it pickles back to the parent
        self.kind, self.message, self.details = kind, message, details

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def run_isolated(call: Callable[[], _Result]) -> _Result:
    """`call()` run in a child process group; its result or exception comes back here.

    KeyboardInterrupt (or any other exception) in the parent while waiting
    kills the child and everything it started before it propagates. A
    StanmerError raised in the child is raised again here; any other
    exception, or the child's death, becomes an EngineCrash.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(call, sender, os.getpid()), daemon=False)
    with _interrupts_noted() as interrupted:
        try:
            child.start()
            sender.close()
            outcome, value = _wait(child, receiver, interrupted)
        finally:
            _kill_group(child)
            sender.close()
            receiver.close()
    if outcome == "ok":
        return value
    raise value


@contextlib.contextmanager
def _interrupts_noted() -> Iterator[threading.Event]:
    """Note every Ctrl-C while the child runs, so that waiting raises it.

    A Ctrl-C that lands while the parent forks is raised inside fork's own
    handlers, where Python prints and drops it ("Exception ignored in ...
    _releaseLock"): the fit then ran on. Only a process that turns SIGINT
    into KeyboardInterrupt is watched (not batch workers, which ignore it).
    """
    noted = threading.Event()
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def note(signum: int, frame: Any) -> None:
        noted.set()
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait(child: multiprocessing.process.BaseProcess, receiver, interrupted: threading.Event) -> tuple[str, Any]:
    while not receiver.poll(_POLL_SECONDS):
        if interrupted.is_set():
            raise KeyboardInterrupt
        if not child.is_alive():
            if receiver.poll(0):  # it answered just before it ended
                break
            child.join()
            raise _died(child.exitcode)
    try:
        return receiver.recv()
    except EOFError:
        child.join()
        raise _died(child.exitcode) from None


def _kill_group(child: multiprocessing.process.BaseProcess) -> None:
    """SIGKILL the child's process group (the child and every worker it forked)."""
    if child.pid is None:  # interrupted before it started
        return
    for kill, target in ((os.killpg, child.pid), (os.kill, child.pid)):  # the child too: it may not lead its group yet
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    child.join()


def _child_main(call: Callable[[], Any], sender, parent: int) -> None:
    os.setpgid(0, 0)  # lead a new group: the parent can kill it whole, the terminal's Ctrl-C goes to the parent only
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it kills the group
    threading.Thread(target=_die_with_parent, args=(parent,), daemon=True).start()
    try:
        answer: tuple[str, Any] = ("ok", call())
    except StanmerError as error:
        answer = ("error", error)
    except BaseException as error:  # everything goes back to the parent, which decides
        answer = ("error", EngineCrash(type(error).__name__, str(error), "".join(traceback.format_exception(error))))
    sender.send(answer)
    sender.close()
    os._exit(0)  # skip atexit: httpstan's pool would wait for its workers


def _die_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_SECONDS)
    os.killpg(0, signal.SIGKILL)


def _died(exitcode: int | None) -> EngineCrash:
    if exitcode is not None and exitcode < 0:
        return EngineCrash("process killed", f"the engine's process was killed by {signal.Signals(-exitcode).name}")
    return EngineCrash("process ended", f"the engine's process ended (exit code {exitcode}) without an answer")
