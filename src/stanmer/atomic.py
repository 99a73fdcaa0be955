"""Writing files so that no reader, in any process, sees half of one.

Everything goes to a uniquely named file beside the target first, then
`os.replace` swaps it in, which is atomic on one file system. Used for the
engines' caches and for saved fits and batch outputs alike; JSON and CSV
are written through here too.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path`
    (on failure the temporary is removed and `path` is untouched)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    # a plain write (not mkstemp) gives the file the usual umask permissions
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, value: Any, indent: int | None = 2) -> None:
    write_text(path, json.dumps(jsonable(value), indent=indent) + "\n")


def write_csv(path: str | os.PathLike, table: pd.DataFrame, index: bool = False) -> None:
    with replacing(path) as temporary:
        table.to_csv(temporary, index=index)


def jsonable(value: Any) -> Any:
    """`value` with numpy arrays and scalars turned into plain Python."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
