"""Files for the command line: reading data tables, hashing them, and
claiming output folders without clobbering anything a user put there."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator

from ..atomic import write_json
from ..errors import StanmerError

if TYPE_CHECKING:
    import pandas as pd

# Written first into every folder the CLI fills, so a rerun knows the folder
# is stanmer's to overwrite (meta.json, written last, only marks completion).
OWNER_MARKER = ".stanmer"
LOCK_FILE = ".stanmer-lock"
READERS = {".csv": ",", ".txt": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")


class InputError(StanmerError, ValueError):
    """A file or argument given on the command line cannot be used."""


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A data file as a DataFrame: CSV/TSV by default, Parquet by suffix."""
    import pandas as pd  # loaded when a table is read, not when the CLI parses its arguments

    path = require_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path)
        if suffix in READERS:
            return pd.read_csv(path, sep=READERS[suffix])
    except ImportError as error:  # pandas reads Parquet through pyarrow, which stanmer does not require
        raise InputError(f"reading {path.name} needs pyarrow: pip install pyarrow, or save the data as CSV") from error
    except (ValueError, OSError) as error:  # pandas parser errors are ValueErrors
        raise InputError(f"cannot read data file {str(path)!r}: {error}") from error
    raise InputError(f"data file {str(path)!r}: unknown format {suffix!r}; use .csv, .tsv or .parquet")


def require_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"data file {str(path)!r} not found; check the path (relative paths start at {os.getcwd()})")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def claim_output_folder(folder: str | os.PathLike, kind: str) -> Path:
    """Make `folder` ready for stanmer output of `kind` ("fit" or "batch")."""
    folder = check_output_folder(folder, kind)
    if folder_kind(folder) is None:
        write_json(folder / OWNER_MARKER, {"kind": kind})
    return folder


def check_output_folder(folder: str | os.PathLike, kind: str) -> Path:
    """`folder` if stanmer may write `kind` output there, else InputError.

    A new or empty folder will do, and so will one stanmer filled before;
    anything else is refused, so user files are never overwritten.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output {str(folder)!r} is a file, not a folder; choose another --out")
    _check_writable(folder, "--out")
    if _locked_by_another(folder):
        raise InputError(
            f"another stanmer process ({_holder(folder)}) is writing to {str(folder)!r}; "
            "wait for it or choose another --out"
        )
    owner = folder_kind(folder)
    if owner is None and folder.exists() and any(folder.iterdir()):
        example = sorted(p.name for p in folder.iterdir())[0]
        raise InputError(
            f"output folder {str(folder)!r} already holds files stanmer did not write (e.g. {example!r}); "
            "choose another --out or empty it"
        )
    if owner not in (None, kind):
        raise InputError(f"output folder {str(folder)!r} holds a stanmer {owner}, not a {kind}; choose another --out")
    return folder


def check_output_file(path: str | os.PathLike) -> Path:
    """`path` if a file can be written there, else InputError (checked before any work)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"--out {str(path)!r} is a folder; give a file name, e.g. --out {str(path / 'predictions.csv')!r}")
    _check_writable(path, "--out")
    return path


def _check_writable(path: Path, option: str) -> None:
    """InputError when `path` could not be created: an ancestor is a file, or not writable."""
    existing = path if path.exists() else next((p for p in path.parents if p.exists()), Path("."))
    if not existing.is_dir():
        raise InputError(f"{option} {str(path)!r} lies under {str(existing)!r}, which is a file; choose another {option}")
    try:  # a real probe: permissions alone miss read-only file systems and root's rights
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as error:
        raise InputError(
            f"{option} {str(path)!r}: cannot write in {str(existing)!r} ({error.strerror}); choose another {option}"
        ) from None


def _locked_by_another(folder: Path) -> bool:
    """True when another process holds `folder`'s lock (see `exclusive`)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        handle = open(folder / LOCK_FILE, "r")
    except OSError:  # no lock file: nobody has held the folder
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def folder_kind(folder: str | os.PathLike) -> str | None:
    """"fit" or "batch" for a folder stanmer wrote, else None.

    A fit saved from Python (save_fit) has no marker but its meta.json says so.
    """
    folder = Path(folder)
    try:
        return json.loads((folder / OWNER_MARKER).read_text(encoding="utf-8"))["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        from ..results.persist import read_meta  # loads ArviZ: only for folders without a marker

        meta = read_meta(folder)
        return "fit" if meta and "stanmer_version" in meta else None


class RunLock:
    """The batch run that holds an output folder: its lock file names the
    process and a token, so a writer can check it still owns the folder."""

    def __init__(self, folder: Path, handle: IO[str] | None) -> None:
        self.folder, self.handle = folder, handle
        self.token = uuid.uuid4().hex

    def check(self) -> None:
        """InputError unless this run still holds the folder's lock (the last
        check before a model's outputs are made complete)."""
        if self.handle is None:
            return
        try:
            held = os.fstat(self.handle.fileno()).st_ino == (self.folder / LOCK_FILE).stat().st_ino
            holder = json.loads((self.folder / LOCK_FILE).read_text(encoding="utf-8")) if held else {}
        except (OSError, ValueError):
            held, holder = False, {}
        if holder.get("token") != self.token:
            raise InputError(
                f"output folder {str(self.folder)!r} was taken over by another run (its lock file changed); "
                "this run writes nothing more there"
            )


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[RunLock]:
    """Hold `folder` for one process: two batches filling one folder would fit models twice.

    The lock is the kernel's (flock), so it goes with its process, however
    that ends; the lock file names the process that holds it.
    """
    try:
        import fcntl
    except ImportError:  # Windows has no flock: the folder is not guarded there
        yield RunLock(folder, None)
        return
    with open(folder / LOCK_FILE, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"another stanmer batch ({_holder(folder)}) is writing to {str(folder)!r}; "
                "wait for it to finish or choose another --out"
            ) from None
        lock = RunLock(folder, handle)
        handle.truncate(0)
        handle.write(json.dumps({"pid": os.getpid(), "token": lock.token}))
        handle.flush()
        yield lock


def _holder(folder: Path) -> str:
    try:
        return f"process {json.loads((folder / LOCK_FILE).read_text(encoding='utf-8'))['pid']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not yet named itself"
