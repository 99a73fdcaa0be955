"""The left of '~': a plain response, or successes and trials for binomial
models, written `cbind(successes, failures)` (lme4), `successes | trials(n)`
(brms) or `p(successes, n)` (formulae).

After '|' the response may carry brms's addition terms, joined by '+':
`trials(n)`, `cens(flag)` or `cens(flag, upper)` (censoring) and `se(sei)`
or `se(sei, sigma = TRUE)` (known standard errors, meta-analysis)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from formulae import design_matrices, model_description

from ..errors import DataError, FormulaError
from ..families import FAMILIES, Family, invalid_rows


@dataclass(frozen=True)
class ResponseTerms:
    value: str  # the response, or the successes
    failures: str | None = None  # cbind's second argument
    trials: str | None = None  # a column, an expression or a whole number
    cens: str | None = None  # column of censoring flags
    cens_upper: str | None = None  # upper bounds of interval-censored rows
    se: str | None = None  # known standard errors
    se_sigma: bool = False  # se(sei, sigma = TRUE): a residual sd besides the known ones

    @property
    def name(self) -> str:
        """What the response is called in results."""
        return self.value

    def expressions(self) -> list[str]:
        """Numeric expressions the response reads (the flags are read apart)."""
        found = [self.value, self.failures, self.trials, self.cens_upper, self.se]
        return [e for e in found if e is not None and not e.isdigit()]

    def variables(self) -> set[str]:
        """Columns a row must have (not missing) to be used. A column of upper
        bounds may be missing where a row is not interval-censored."""
        upper = {self.cens_upper} if self.cens_upper and _NAME.match(self.cens_upper) else set()
        return (response_variables(self) - upper) | ({self.cens} if self.cens else set())


_CBIND = re.compile(r"^cbind\s*\((.*)\)$")
_P = re.compile(r"^p\s*\((.*)\)$")
_ADDITION = re.compile(r"^(trials|cens|se)\s*\((.*)\)$")
_ADDITION_HELP = (
    "after '|' stanmer understands trials(n), cens(flag), cens(flag, upper), se(sei) and "
    "se(sei, sigma = TRUE), joined by '+', e.g. 'y | cens(censored) ~ x'"
)


def parse_response(text: str) -> ResponseTerms:
    text = text.strip()
    if match := _CBIND.match(text):
        return ResponseTerms(*_two_arguments(match.group(1), text))
    if match := _P.match(text):
        successes, trials = _two_arguments(match.group(1), text)
        return ResponseTerms(successes, trials=trials)
    if "|" in text:
        value, _, extra = (part.strip() for part in text.partition("|"))
        return ResponseTerms(value, **_additions(extra, text))
    return ResponseTerms(text)


def _additions(extra: str, text: str) -> dict:
    found: dict = {}
    for part in _top_level_split(extra, "+"):
        match = _ADDITION.match(part.strip())
        if not match:
            raise FormulaError(f"cannot read the response {text!r}: {_ADDITION_HELP}")
        kind, arguments = match.group(1), [a.strip() for a in _top_level_split(match.group(2), ",")]
        if kind in found:
            raise FormulaError(f"the response {text!r} gives {kind}() twice; keep one")
        if kind == "trials" and len(arguments) == 1 and arguments[0]:
            found["trials"] = arguments[0]
        elif kind == "cens" and len(arguments) in (1, 2) and all(arguments):
            found["cens"] = arguments[0]
            found["cens_upper"] = arguments[1] if len(arguments) == 2 else None
        elif kind == "se" and arguments[0] and (len(arguments) == 1 or _sigma_flag(arguments[1:]) is not None):
            found["se"] = arguments[0]
            found["se_sigma"] = bool(_sigma_flag(arguments[1:]))
        else:
            raise FormulaError(f"cannot read {part.strip()!r} in the response {text!r}: {_ADDITION_HELP}")
    return found


def _sigma_flag(arguments: list[str]) -> bool | None:
    """se()'s optional `sigma = TRUE/FALSE` (True/False as in Python), or None if unreadable."""
    if not arguments:
        return False
    if len(arguments) != 1:
        return None
    name, _, value = (piece.strip() for piece in arguments[0].partition("="))
    if name != "sigma" or value.upper() not in ("TRUE", "FALSE", "T", "F"):
        return None
    return value.upper() in ("TRUE", "T")


def _top_level_split(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _two_arguments(inner: str, text: str) -> tuple[str, str]:
    parts = [part.strip() for part in inner.split(",")]
    if len(parts) != 2 or not all(parts):
        raise FormulaError(f"{text!r} needs exactly two arguments, e.g. cbind(successes, failures)")
    return parts[0], parts[1]


_NAME = re.compile(r"^[^\W\d]\w*$")


def _as_formulae_response(expression: str) -> str:
    """formulae reads `a - b ~ 1` as the response `a` with `b` removed from
    the right-hand side; `{a - b}` is the arithmetic R's cbind() means."""
    return expression if _NAME.match(expression) else f"{{{expression}}}"


def response_variables(terms: ResponseTerms) -> set[str]:
    names: set[str] = set()
    for expression in terms.expressions():
        try:
            names |= set(model_description(f"{_as_formulae_response(expression)} ~ 1").var_names)
        except Exception as exc:  # formulae raises several unrelated types
            raise FormulaError(f"cannot read the response expression {expression!r}: {exc}") from exc
    return names - {""}  # formulae lists numeric literals as ''


def evaluate_response(
    terms: ResponseTerms, fam: Family, rows: pd.DataFrame, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The response (successes for binomial), the trials and the likelihood
    weights that remain, checked against the family's support.

    A binomial response without trials is lme4's proportion form
    (`glmer(k/n ~ ..., weights = n)`): the weights are the trials and the
    successes are proportion × weights."""
    y = _categorical_response(terms.value, fam, rows)
    if y is None:
        y = evaluate_expression(terms.value, rows)
    trials = evaluate_trials(terms, rows)
    if fam.needs_trials and trials is None:
        if weights is None:
            raise FormulaError(
                f"a binomial model needs trials: write 'cbind(successes, failures) ~ ...', "
                f"'successes | trials(n) ~ ...' or 'p(successes, n) ~ ...' (got {terms.value!r}; "
                "a proportion response also needs weights=<trials>, as in lme4)"
            )
        y, trials, weights = _proportion_as_counts(terms, y, weights, rows), weights, None
    if trials is not None and not fam.needs_trials:
        raise FormulaError(f"the response gives trials, which only the binomial family uses (family {fam})")
    if terms.cens is not None and not fam.definition.censorable:
        censorable = ", ".join(name for name, d in FAMILIES.items() if d.censorable)
        raise FormulaError(f"family {fam.name} cannot take censored responses (cens()); families that can: {censorable}")
    if terms.se is not None and fam.name != "gaussian":
        raise FormulaError(f"se() gives known standard errors of a gaussian response; family {fam.name} has none")
    _check_support(terms, fam, y, trials, rows)
    return y, trials, weights


def _categorical_response(name: str, fam: Family, rows: pd.DataFrame) -> np.ndarray | None:
    """A two-level text or categorical response as 0/1 for bernoulli,
    as brms codes it: the second level (category order, else sorted) is 1."""
    if name not in rows.columns or pd.api.types.is_numeric_dtype(rows[name]):
        return None
    column = rows[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [level for level in column.cat.categories if (column == level).any()]
    else:
        # mixed text and numbers (one stray "abc" in a numeric column) sort as text
        levels = sorted(pd.unique(column), key=lambda level: (not isinstance(level, str), str(level)))
    if fam.name != "bernoulli":
        raise FormulaError(
            f"the response {name!r} is text (levels {', '.join(map(str, levels[:5]))}); family {fam.name} needs it "
            "to be one numeric column. A two-level response fits with family='bernoulli'"
        )
    if len(levels) != 2:
        raise DataError(
            f"family bernoulli needs a response with two levels; {name!r} has {len(levels)}: "
            f"{', '.join(map(repr, levels[:10]))}"
        )
    warnings.warn(
        f"response {name!r}: '{levels[1]}' is coded 1 and '{levels[0]}' 0 (the second level is the success, as in brms)",
        UserWarning,
        stacklevel=4,
    )
    return (column == levels[1]).to_numpy(dtype=float)


def evaluate_ordinal_response(terms: ResponseTerms, fam: Family, rows: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    """An ordinal family's response as category codes 1..n and the category names.

    An ordered categorical keeps its categories in their order; whole numbers
    are categories in increasing order of their distinct values (brms instead
    takes the numbers 1..max(y) themselves as codes, empty ones included). An
    unordered categorical or text is refused: its order would be a guess."""
    extra = [name for name, given in (("trials", terms.trials or terms.failures), ("cens", terms.cens), ("se", terms.se)) if given]
    if extra:
        raise FormulaError(f"family {fam.name} takes no {', '.join(f'{name}()' for name in extra)} in its response")
    name = terms.value
    column = rows[name] if name in rows.columns else pd.Series(evaluate_expression(name, rows), index=rows.index)
    how = (
        f"make it an ordered categorical, e.g. data[{name!r}] = pd.Categorical(data[{name!r}], "
        "categories=[lowest, ..., highest], ordered=True)"
    )
    if isinstance(column.dtype, pd.CategoricalDtype):
        if not column.cat.ordered:
            raise DataError(
                f"family {fam.name} needs the order of the response's categories, and {name!r} is an unordered "
                f"categorical (categories {', '.join(map(str, column.cat.categories[:10]))}); {how}"
            )
        levels = list(column.cat.categories)
        empty = [str(level) for level in levels if not (column == level).any()]
        if empty:
            raise DataError(
                f"category {', '.join(map(repr, empty))} of the response {name!r} has no observations, so no data "
                f"inform its threshold; drop it with data[{name!r}] = data[{name!r}].cat.remove_unused_categories() "
                "or merge it into a neighbouring category"
            )
        codes = column.cat.codes.to_numpy(dtype=float) + 1
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float)
        bad = np.flatnonzero(~(np.isfinite(values) & (np.mod(values, 1) == 0)))
        if bad.size:
            raise DataError(
                f"family {fam.name} needs whole numbers or an ordered categorical as the response; "
                f"{name!r} is not a whole number in {bad.size} row(s): {_rows(rows, bad, values)}"
            )
        levels = sorted(np.unique(values))
        codes = np.searchsorted(levels, values).astype(float) + 1
        levels = [str(int(level)) for level in levels]
    else:
        shown = ", ".join(map(str, pd.unique(column)[:5]))
        raise DataError(
            f"family {fam.name} needs the order of the response's categories, and {name!r} is text "
            f"(values {shown}); {how} (stanmer does not guess an order from the text)"
        )
    if len(levels) < 3:
        raise DataError(
            f"family {fam.name} needs a response with at least 3 categories; {name!r} has {len(levels)} "
            f"({', '.join(map(str, levels))}). A two-category response fits with family='bernoulli'"
        )
    return codes, tuple(str(level) for level in levels)


def _proportion_as_counts(terms: ResponseTerms, proportion: np.ndarray, weights: np.ndarray, rows) -> np.ndarray:
    successes = proportion * weights
    whole = np.round(successes)
    bad = np.flatnonzero(~(np.abs(successes - whole) <= 1e-8 * np.maximum(1.0, np.abs(successes))))
    if bad.size:
        raise DataError(
            f"a binomial proportion response with weights reads the weights as trials, so "
            f"{terms.value!r} × weights must be a whole number of successes; it is not in {bad.size} row(s): "
            f"{_rows(rows, bad, successes)}. Write the counts instead: 'cbind(successes, trials - successes) ~ ...'"
        )
    return whole


def evaluate_trials(terms: ResponseTerms, rows: pd.DataFrame) -> np.ndarray | None:
    """Trials per row as the response states them (cbind: successes +
    failures), or None for a response without trials."""
    if terms.failures is not None:
        return evaluate_expression(terms.value, rows) + evaluate_expression(terms.failures, rows)
    if terms.trials is None:
        return None
    if terms.trials.isdigit():
        return np.full(len(rows), float(terms.trials))
    return evaluate_expression(terms.trials, rows)


def evaluate_expression(expression: str, rows: pd.DataFrame) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            response = design_matrices(f"{_as_formulae_response(expression)} ~ 1", rows, na_action="error").response
    except Exception as exc:
        raise FormulaError(f"cannot evaluate the response {expression!r}: {exc}") from exc
    values = np.asarray(response.design_matrix, dtype=float)
    if values.ndim == 2 and values.shape[1] != 1:
        raise FormulaError(
            f"the response {expression!r} gives {values.shape[1]} columns; it must be one numeric column "
            "(a categorical response needs the bernoulli family and a 0/1 column)"
        )
    return values.reshape(-1)


def _check_support(terms: ResponseTerms, fam: Family, y: np.ndarray, trials, rows: pd.DataFrame) -> None:
    bad, allowed = invalid_rows(fam, y)
    if bad.size:
        raise DataError(
            f"family {fam.name} needs a response of {allowed}; {terms.value!r} is not in "
            f"{bad.size} row(s): {_rows(rows, bad, y)}"
        )
    if trials is None:
        return
    bad = np.flatnonzero(~((trials >= 1) & (np.mod(trials, 1) == 0)))
    if bad.size:
        raise DataError(f"trials must be whole numbers of at least 1; not so in {bad.size} row(s): {_rows(rows, bad, trials)}")
    bad = np.flatnonzero(y > trials)
    if bad.size:
        raise DataError(f"successes exceed trials in {bad.size} row(s): {_rows(rows, bad, y)}")


def _rows(rows: pd.DataFrame, positions: np.ndarray, values: np.ndarray, shown: int = 5) -> str:
    listed = ", ".join(f"row {rows.index[i]!r} ({values[i]:g})" for i in positions[:shown])
    more = f" and {positions.size - shown} more" if positions.size > shown else ""
    return listed + more


# brms's censoring codes: the flag column may hold the words or the numbers
CENSORING_CODES = {"none": 0, "left": -1, "right": 1, "interval": 2}


def evaluate_censoring(terms: ResponseTerms, y: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Per row the censoring code (0 none, -1 left: the value is at most y,
    1 right: at least y, 2 interval: between y and upper) and the upper
    bounds (y where a row is not interval-censored); None without cens()."""
    if terms.cens is None:
        return None
    flags = _censoring_codes(terms.cens, rows)
    interval = flags == 2
    if interval.any() and terms.cens_upper is None:
        raise FormulaError(
            f"{int(interval.sum())} row(s) are interval-censored, which needs the upper bounds: "
            f"write cens({terms.cens}, upper) with a column of upper bounds"
        )
    upper = y.copy()
    if terms.cens_upper is not None:
        if terms.cens_upper in rows.columns:  # may be missing outside interval rows
            given = pd.to_numeric(rows[terms.cens_upper], errors="coerce").to_numpy(dtype=float)
        else:
            given = evaluate_expression(terms.cens_upper, rows)
        upper[interval] = given[interval]
    bad = np.flatnonzero(interval & ~(upper > y))
    if bad.size:
        raise DataError(
            f"interval-censored rows need an upper bound above the response; not so in {bad.size} row(s): "
            f"{_rows(rows, bad, upper)}"
        )
    return flags, upper


def _censoring_codes(column: str, rows: pd.DataFrame) -> np.ndarray:
    if column not in rows.columns:
        raise FormulaError(f"cens({column}) needs a column of the data named {column!r} holding the censoring flags")
    values = rows[column]
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.int64)  # brms: TRUE is right-censored
    if pd.api.types.is_numeric_dtype(values):
        codes = values.to_numpy(dtype=float)
        known = np.isin(codes, list(CENSORING_CODES.values()))
    else:
        words = values.astype(str).str.strip().str.lower()
        known = words.isin(list(CENSORING_CODES)).to_numpy()
        codes = words.map(CENSORING_CODES).to_numpy(dtype=float)
    bad = np.flatnonzero(~known)
    if bad.size:
        listed = ", ".join(f"row {rows.index[i]!r} ({values.tolist()[i]!r})" for i in bad[:5])
        raise DataError(
            f"censoring flags in {column!r} must be 'none', 'left', 'right', 'interval' or -1, 0, 1, 2 "
            f"(as in brms); not so in {bad.size} row(s): {listed}"
        )
    return codes.astype(np.int64)


def evaluate_se(terms: ResponseTerms, rows: pd.DataFrame) -> np.ndarray | None:
    """The known standard errors of se(), checked positive; None without se()."""
    if terms.se is None:
        return None
    se = evaluate_expression(terms.se, rows)
    bad = np.flatnonzero(~(np.isfinite(se) & (se > 0)))
    if bad.size:
        raise DataError(f"se({terms.se}) must be positive numbers; not so in {bad.size} row(s): {_rows(rows, bad, se)}")
    return se
