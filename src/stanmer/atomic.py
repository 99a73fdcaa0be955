"""Writing files so that no reader, in any process, sees half of one.

Everything goes to a uniquely named file beside the target first, then
`os.replace` swaps it in, which is atomic on one file system. Used for the
engines' caches and for saved fits and batch outputs alike.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Iterator


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
