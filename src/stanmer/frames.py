"""Data frames from other libraries (polars, pyarrow, ...) as the pandas
DataFrame every later stage reads.

A small converter rather than narwhals: the stages use pandas throughout,
so all another library's frame needs is one conversion at the door, through
its own `to_pandas()` or else the DataFrame interchange protocol.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import StanmerError

_ACCEPTED = "a pandas DataFrame, or a data frame with to_pandas() or the DataFrame interchange protocol (e.g. polars)"


def as_pandas(data: Any, name: str, error: type[StanmerError]) -> pd.DataFrame:
    """`data` as a pandas DataFrame; `error` naming `name` when it is not a data frame."""
    if isinstance(data, pd.DataFrame):
        return data
    try:
        if callable(getattr(data, "to_pandas", None)):
            frame = data.to_pandas()
        elif hasattr(data, "__dataframe__"):
            frame = pd.api.interchange.from_dataframe(data)
        else:
            raise error(f"{name} must be {_ACCEPTED}; got {type(data).__name__}")
    except ImportError as missing:
        # polars converts through pyarrow, which it does not install itself.
        raise error(
            f"could not convert {name} ({type(data).__module__}.{type(data).__name__}) to pandas: {missing}\n"
            "Hint: pip install pyarrow, or pass a pandas DataFrame."
        ) from missing
    if not isinstance(frame, pd.DataFrame):
        raise error(f"{name}.to_pandas() gave a {type(frame).__name__}, not a pandas DataFrame; pass a pandas DataFrame")
    return frame
