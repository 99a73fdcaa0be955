"""Ordered categories for text columns read from files (`--levels`, manifest `levels`).

A data file cannot say that "never < rarely < often" the way a pandas
ordered categorical does, and an ordinal family refuses to guess an order.
So the command line names it: the column becomes an ordered categorical
with exactly these categories, before the formula is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .io import InputError

if TYPE_CHECKING:
    import pandas as pd

Levels = tuple[tuple[str, tuple[str, ...]], ...]  # (column, its categories lowest first), per column


def parse_levels(text: str) -> tuple[str, tuple[str, ...]]:
    """`COLUMN=LOWEST,...,HIGHEST` as (column, categories)."""
    column, equals, values = text.partition("=")
    categories = tuple(value.strip() for value in values.split(","))
    if not equals or not column.strip() or len(categories) < 2 or not all(categories):
        raise InputError(
            f"cannot read --levels {text!r}; write COLUMN=LOWEST,...,HIGHEST with two or more categories, "
            "e.g. --levels rating=never,rarely,often,always"
        )
    return column.strip(), categories


def check_levels(levels: Iterable[tuple[str, Iterable[str]]]) -> Levels:
    """Levels as a manifest gives them (a table of column -> list), checked."""
    checked = []
    for column, categories in levels:
        categories = tuple(map(str, categories))
        if len(categories) < 2 or len(set(categories)) != len(categories):
            raise InputError(
                f"levels of {column!r} must list two or more distinct categories, lowest first; got {list(categories)}"
            )
        checked.append((str(column), categories))
    return tuple(checked)


def apply_levels(rows: pd.DataFrame, levels: Levels) -> pd.DataFrame:
    """`rows` with each named column an ordered categorical of its categories."""
    if not levels:
        return rows
    import pandas as pd

    rows = rows.copy()
    for column, categories in levels:
        if column not in rows:
            raise InputError(f"levels are given for {column!r}, which is not a column of the data")
        text = rows[column].where(rows[column].isna(), rows[column].astype(str))
        unknown = sorted(set(text.dropna()) - set(categories))
        if unknown:
            raise InputError(
                f"column {column!r} has values {unknown[:5]} that its levels ({', '.join(categories)}) do not list; "
                "add them to the levels in their place"
            )
        rows[column] = pd.Categorical(text, categories=list(categories), ordered=True)
    return rows
