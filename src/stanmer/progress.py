"""One live progress display per fit, fed by what the engines print.

Each engine reports progress in its own shape: stanli, and CmdStan through
cmdstanpy's console, print CmdStan lines ("Chain [2] Iteration: 300 / 2000
[ 15%]  (Warmup)"); pystan prints "Sampling:  40% (3200/8000)" for all
chains together. `engine_output` holds all of it back, reads the progress
lines into one `Progress` display, counts Stan's "Metropolis proposal is
about to be rejected" messages, and keeps every other line for an error
message, or passes everything through unchanged with verbose=True.

The display is a tqdm bar: tqdm is already installed with cmdstanpy. In a
terminal it is redrawn with carriage returns; in a notebook the same text
is one output replaced in place through IPython's display_id, so neither
needs ipywidgets (tqdm.notebook and rich's live display both do; rich would
also be a new dependency). Where output is neither a terminal nor a
notebook (CI, a log file) the display is a few plain lines instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading
import time
from typing import IO, Iterator

_CHAIN_ITERATION = re.compile(r"(?:Chain \[(\d+)\] )?Iteration:\s*(\d+)\s*/\s*\d+.*\((Warmup|Sampling)\)")
_ALL_CHAINS = re.compile(r"Sampling:\s*\d+%\s*\((\d+)/\d+\)")
_REJECTION = "Metropolis proposal is about to be rejected"
_NOTEBOOK_WIDTH = 80  # a notebook's output has no terminal width to measure; fits a docs page
_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


class Progress:
    """Iterations of every chain of one run, shown as one display.

    Engines update it from any thread (stanli reports from its chain
    threads); `finish` adds the divergence count once the draws are in.
    """

    def __init__(
        self, engine: str, chains: int, warmup: int, draws: int, enabled: bool, stream: IO[str] | None = None
    ) -> None:
        self.engine, self.chains, self.warmup = engine, chains, warmup
        self.total = chains * (warmup + draws)
        self.done: dict[int, int] = {}  # iterations per chain
        self.sampling: set[int] = set()  # chains past warmup
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._view = _make_view(self, stream if stream is not None else sys.stderr) if enabled else None

    def chain(self, chain: int, iteration: int, warmup: bool) -> None:
        """Chain `chain` (numbered from 1) has run `iteration` iterations."""
        with self._lock:
            self.done[chain] = iteration
            if not warmup:
                self.sampling.add(chain)
            self._show()

    def all_chains(self, iterations: int) -> None:
        """All chains together have run `iterations` (pystan reports only that)."""
        with self._lock:
            self.done = {0: iterations}
            if iterations > self.chains * self.warmup:
                self.sampling = set(range(1, self.chains + 1))
            self._show()

    @property
    def phase(self) -> str:
        if not self.sampling:
            return "warmup"
        if len(self.sampling) >= self.chains:
            return "sampling"
        return f"sampling {len(self.sampling)}/{self.chains} chains"

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float | None:
        done = sum(self.done.values())
        return self.elapsed() * (self.total - done) / done if done else None

    def finish(self, divergences: int, rejections: int = 0) -> None:
        """The run is over: show the total, its divergences and rejections."""
        with self._lock:
            if self._view is not None:
                self.done = {0: self.total}
                self._view.finish(divergences, rejections)
                self._view = None

    def close(self) -> None:
        """End the display early (a failed or interrupted run)."""
        with self._lock:
            if self._view is not None:
                self._view.close()
                self._view = None

    def _show(self) -> None:
        if self._view is not None:
            self._view.show()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_view(progress: Progress, stream: IO[str]):
    if type(stream).__module__.startswith("ipykernel"):
        return _NotebookBar(progress)
    if _is_terminal(stream):
        return _Bar(progress, stream)
    return _Lines(progress, stream)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def _divergences(count: int) -> str:
    return f"{count} divergence{'s' if count != 1 else ''}"


def _rejection_note(engine: str, rejections: int) -> str:
    plural = "s" if rejections != 1 else ""
    return f"{engine}: {rejections} Metropolis proposal{plural} rejected (Stan's informational messages; verbose=True shows them)"


class _Bar:
    """One tqdm bar that updates in place."""

    def __init__(self, progress: Progress, stream: IO[str]) -> None:
        from tqdm.std import tqdm  # not tqdm.auto: it warns in notebooks without ipywidgets

        self.progress, self.stream = progress, stream
        self.bar = tqdm(
            total=progress.total,
            desc=f"{progress.engine}, {progress.chains} chains",
            file=stream,
            bar_format=_BAR_FORMAT,
            postfix="warmup",
        )

    def show(self) -> None:
        done = sum(self.progress.done.values())
        self.bar.set_postfix_str(self.progress.phase, refresh=False)
        self.bar.update(done - self.bar.n)

    def finish(self, divergences: int, rejections: int) -> None:
        self.bar.set_postfix_str(_divergences(divergences), refresh=False)
        self.bar.update(self.progress.total - self.bar.n)
        self.bar.close()
        if rejections:
            print(_rejection_note(self.progress.engine, rejections), file=self.stream, flush=True)

    def close(self) -> None:
        self.bar.close()


class _NotebookBar:
    """The same bar as one notebook output, replaced in place (IPython's
    display_id): no ipywidgets needed, and an executed notebook keeps only
    the last state, where carriage returns would keep every redraw."""

    _INTERVAL = 0.2  # seconds between redraws

    def __init__(self, progress: Progress) -> None:
        from IPython.display import display

        self.progress, self.drawn = progress, 0.0
        self.handle = display(self._bundle("warmup"), raw=True, display_id=True)

    def show(self) -> None:
        if time.monotonic() - self.drawn >= self._INTERVAL:
            self.handle.update(self._bundle(self.progress.phase), raw=True)

    def finish(self, divergences: int, rejections: int) -> None:
        bundle = self._bundle(_divergences(divergences))
        if rejections:
            bundle["text/plain"] += "\n" + _rejection_note(self.progress.engine, rejections)
        self.handle.update(bundle, raw=True)

    def close(self) -> None:
        pass

    def _bundle(self, postfix: str) -> dict[str, str]:
        from tqdm.std import tqdm

        self.drawn = time.monotonic()
        done, total = sum(self.progress.done.values()), self.progress.total
        line = tqdm.format_meter(
            min(done, total), total, self.progress.elapsed(), ncols=_NOTEBOOK_WIDTH,
            prefix=f"{self.progress.engine}, {self.progress.chains} chains", bar_format=_BAR_FORMAT,
            postfix=postfix,
        )
        return {"text/plain": line}


class _Lines:
    """A few plain lines for logs: start, end of warmup, end."""

    def __init__(self, progress: Progress, stream: IO[str]) -> None:
        self.progress, self.stream, self.warmup_reported = progress, stream, False
        per_chain = progress.total // progress.chains
        self._print(
            f"{progress.engine}: sampling {progress.chains} chains x {per_chain} iterations "
            f"({progress.warmup} warmup)"
        )

    def show(self) -> None:
        if self.warmup_reported or len(self.progress.sampling) < self.progress.chains:
            return
        self.warmup_reported = True
        remaining = self.progress.remaining()
        left = f", about {remaining:.1f} s left" if remaining is not None else ""
        self._print(f"{self.progress.engine}: warmup done after {self.progress.elapsed():.1f} s; sampling{left}")

    def finish(self, divergences: int, rejections: int) -> None:
        self._print(
            f"{self.progress.engine}: done in {self.progress.elapsed():.1f} s, "
            f"{divergences} divergence{'s' if divergences != 1 else ''}"
        )
        if rejections:
            self._print(_rejection_note(self.progress.engine, rejections))

    def close(self) -> None:
        pass

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


class EngineOutput(io.TextIOBase):
    """What an engine prints, line by line: progress to the display,
    rejections counted, the rest kept (and echoed with verbose=True)."""

    def __init__(self, progress: Progress | None, echo: IO[str] | None) -> None:
        super().__init__()
        self.progress, self.echo = progress, echo
        self.rejections = 0
        self._kept: list[str] = []
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.echo is not None:
            self.echo.write(text)
        with self._lock:
            *lines, self._partial = re.split(r"[\r\n]", self._partial + text)
            for line in lines:
                self._read(line)
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()

    def text(self) -> str:
        """Every line that was neither progress nor a rejection, for error messages."""
        with self._lock:
            return "\n".join(self._kept + ([self._partial] if self._partial.strip() else [])).strip()

    def keep(self, text: str) -> None:
        """Add output captured elsewhere (a compiler's) to the kept lines."""
        with self._lock:
            self._kept.extend(line for line in text.splitlines() if line.strip())

    def _read(self, line: str) -> None:
        if _REJECTION in line:
            self.rejections += 1
            return
        chain = _CHAIN_ITERATION.search(line)
        if chain:
            if self.progress is not None:
                # A single CmdStan chain prints no "Chain [c]".
                self.progress.chain(int(chain.group(1) or 1), int(chain.group(2)), chain.group(3) == "Warmup")
            return
        together = _ALL_CHAINS.search(line)
        if together:
            if self.progress is not None:
                self.progress.all_chains(int(together.group(1)))
            return
        if line.strip():
            self._kept.append(line)


@contextlib.contextmanager
def engine_output(
    progress: Progress | None, verbose: bool = False, descriptors: bool = False
) -> Iterator[EngineOutput]:
    """Hold back what the engine prints to Python's stdout and stderr (and,
    with `descriptors`, what subprocesses such as a C++ compiler write to
    the process's own descriptors 1 and 2); with verbose=True show it too."""
    output = EngineOutput(progress, sys.stderr if verbose else None)
    with contextlib.ExitStack() as stack:
        if descriptors and not verbose:
            stack.enter_context(_descriptors_into(output))
        stack.enter_context(contextlib.redirect_stdout(output))
        stack.enter_context(contextlib.redirect_stderr(output))
        yield output


@contextlib.contextmanager
def _descriptors_into(output: EngineOutput) -> Iterator[None]:
    """Point descriptors 1 and 2 at a temporary file, then keep what it got.

    Python-level redirection does not reach a compiler subprocess, and in
    Jupyter the kernel forwards these descriptors to the notebook.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            output.keep(sink.read())


@contextlib.contextmanager
def compiling(engine: str, show: bool, stream: IO[str] | None = None) -> Iterator[None]:
    """Say that a slow compile is under way, and how long it took."""
    stream = stream if stream is not None else sys.stderr
    if show:
        print(f"{engine}: compiling the Stan program (once per program; it is cached)...", file=stream, flush=True)
    started = time.monotonic()
    yield
    if show:
        print(f"{engine}: compiled in {time.monotonic() - started:.0f} s", file=stream, flush=True)
