"""The lme4 pre-pass: split a formula into its population part and its
group-level ("bar") terms, which `formulae` does not group the way lme4 does.

formulae splits `(1 + x | g)` into one term per coefficient, with nothing
saying which coefficients share a correlation matrix, and does not know
`||`. (It does expand the nesting shorthand `(1 | a/b)` since 0.9, but the
bars must be read here anyway.) So stanmer reads the bars itself and hands
only plain expressions to formulae.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FormulaError


@dataclass(frozen=True)
class BarTerm:
    """One `(expr | factor)` as written, after expanding `a/b` nesting."""

    expr: str  # the left of the bar, e.g. "1 + x"
    factor: str  # grouping factor, e.g. "g" or "a:b"
    correlated: bool  # False for `||`
    shared_id: str | None = None  # brms's `(1 |ID| g)`: correlated with the terms of other formulas with the same ID

    @property
    def label(self) -> str:
        bar = f"|{self.shared_id}|" if self.shared_id else ("|" if self.correlated else "||")
        return f"({self.expr} {bar} {self.factor})"


@dataclass(frozen=True)
class SplitFormula:
    response: str
    population: str  # right-hand side without the bar terms
    bars: tuple[BarTerm, ...]


def split_formula(formula: str) -> SplitFormula:
    """Separate response, population terms and bar terms of an lme4 formula."""
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(
            f"a model formula needs a response and a '~', got {formula!r}; "
            "write it as lme4 does, e.g. 'y ~ x + (1 | g)'"
        )
    response, _, rhs = formula.partition("~")
    response = response.strip()
    if not response:
        raise FormulaError(f"the formula {formula!r} has no response left of '~'")
    _check_balanced(formula)
    population, bars = [], []
    for summand in _split_top_level(rhs, "+"):
        bar = _parse_bar(summand)
        if bar is None:
            if len(_split_top_level(summand, "|")) > 1:
                spaced = _BAR.sub(r" \1 ", summand)
                raise FormulaError(
                    f"{summand!r} in {formula!r} has a bar outside parentheses; group terms are written "
                    f"in parentheses, e.g. '({spaced})'"
                )
            if summand:
                population.append(summand)
        else:
            bars.extend(bar)
    if not population:
        population = ["1"]
    return SplitFormula(response, " + ".join(population), tuple(bars))


_BAR = re.compile(r"\s*(\|\|?)\s*")


def _check_balanced(text: str) -> None:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise FormulaError(f"unbalanced ')' in formula {text!r}")
    if depth:
        raise FormulaError(f"unbalanced '(' in formula {text!r}: a closing ')' is missing")


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is outside every parenthesis."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _parse_bar(summand: str) -> list[BarTerm] | None:
    """A summand `(expr | factor)` as bar terms, or None if it is no bar."""
    if not (summand.startswith("(") and summand.endswith(")")):
        return None
    inner = summand[1:-1]
    if _closes_early(inner):  # e.g. "(a + b) * (c + d)"
        return None
    pieces = _split_top_level(inner, "|")
    if len(pieces) == 1:
        return None
    shared_id = None
    if len(pieces) == 2:
        expr, factor, correlated = pieces[0], pieces[1], True
    elif len(pieces) == 3 and pieces[1] == "":
        expr, factor, correlated = pieces[0], pieces[2], False
    elif len(pieces) == 3 and _FACTOR_NAME.match(pieces[1].strip()):
        expr, factor, correlated, shared_id = pieces[0], pieces[2], True, pieces[1].strip()
    else:
        raise FormulaError(
            f"cannot read the group term {summand!r}: write '(terms | factor)', "
            "'(terms || factor)' for uncorrelated effects, or '(terms |ID| factor)' for effects "
            "correlated with the same ID's in other formulas of a bf()"
        )
    expr, factor = expr.strip(), factor.strip()
    if not expr:
        raise FormulaError(f"the group term {summand!r} has nothing left of the bar; use '(1 | {factor})'")
    if not factor:
        raise FormulaError(f"the group term {summand!r} names no grouping factor right of the bar")
    return [BarTerm(expr, name, correlated, shared_id) for name in expand_nesting(factor)]


def _closes_early(inner: str) -> bool:
    depth = 0
    for char in inner:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return True
    return False


_FACTOR_NAME = re.compile(r"^(?:[^\W\d]|\.)[\w.]*$")  # \w takes letters of any script, e.g. gruppe_ü
_BACKTICKED = re.compile(r"^`([^`:/]+)`$")


def expand_nesting(factor: str) -> list[str]:
    """`a/b/c` → `a`, `a:b`, `a:b:c` (lme4's nesting); `a:b` stays one factor.
    A column name that is no identifier is written in backticks, `my g`."""
    levels = [part.strip() for part in factor.split("/")]
    expanded = []
    for depth in range(1, len(levels) + 1):
        names = [_column_name(name.strip(), factor) for part in levels[:depth] for name in part.split(":")]
        expanded.append(":".join(names))
    return expanded


def _column_name(name: str, factor: str) -> str:
    if match := _BACKTICKED.match(name):
        return match.group(1)
    if not _FACTOR_NAME.match(name):
        raise FormulaError(
            f"grouping factor {factor!r}: {name!r} is not a column name; group by columns, e.g. "
            "'(1 | school/class)' or '(1 | a:b)', and write a name with spaces or symbols in backticks, "
            "'(1 | `my group`)' (names holding ':' or '/' cannot group: rename the column)"
        )
    return name
