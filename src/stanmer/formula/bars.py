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

    @property
    def label(self) -> str:
        bar = "|" if self.correlated else "||"
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
            if summand:
                population.append(summand)
        else:
            bars.extend(bar)
    if not population:
        population = ["1"]
    return SplitFormula(response, " + ".join(population), tuple(bars))


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
    if len(pieces) == 2:
        expr, factor, correlated = pieces[0], pieces[1], True
    elif len(pieces) == 3 and pieces[1] == "":
        expr, factor, correlated = pieces[0], pieces[2], False
    else:
        raise FormulaError(
            f"cannot read the group term {summand!r}: write '(terms | factor)' "
            "or '(terms || factor)' for uncorrelated effects"
        )
    expr, factor = expr.strip(), factor.strip()
    if not expr:
        raise FormulaError(f"the group term {summand!r} has nothing left of the bar; use '(1 | {factor})'")
    if not factor:
        raise FormulaError(f"the group term {summand!r} names no grouping factor right of the bar")
    return [BarTerm(expr, name, correlated) for name in expand_nesting(factor)]


def _closes_early(inner: str) -> bool:
    depth = 0
    for char in inner:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return True
    return False


_FACTOR_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def expand_nesting(factor: str) -> list[str]:
    """`a/b/c` → `a`, `a:b`, `a:b:c` (lme4's nesting); `a:b` stays one factor."""
    levels = [part.strip() for part in factor.split("/")]
    expanded = []
    for depth in range(1, len(levels) + 1):
        names = [name.strip() for part in levels[:depth] for name in part.split(":")]
        for name in names:
            if not _FACTOR_NAME.match(name):
                raise FormulaError(
                    f"grouping factor {factor!r}: {name!r} is not a column name; "
                    "group by plain columns, e.g. '(1 | school/class)' or '(1 | a:b)'"
                )
        expanded.append(":".join(names))
    return expanded
