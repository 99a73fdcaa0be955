"""Formula + DataFrame → ModelSpec and the numbers the model is fitted to.

formulae builds every design matrix (population part and each bar's
left-hand side); the encodings it learns are kept so new data can later be
encoded the same way (prediction).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from formulae import design_matrices, model_description

from ..errors import DataError, FormulaError
from ..families import Family
from ..families import family as make_family
from ..frames import as_pandas
from ..model_formula import ModelFormula, as_model_formula
from ..priors import Prior, apply_user_priors, aux_part_priors, default_priors
from ..spec import AuxPart, GroupTerm, ModelSpec
from .bars import BarTerm, SplitFormula, split_formula
from .response import (
    ResponseTerms,
    evaluate_censoring,
    evaluate_ordinal_response,
    evaluate_response,
    evaluate_se,
    parse_response,
)


# likelihood weights: a column name, or one number per row
Weights = str | Sequence[float] | np.ndarray | None


@dataclass
class GroupData:
    """The numbers behind one GroupTerm."""

    index: np.ndarray  # (N,) 1-based level of each row
    Z: np.ndarray  # (N, M) the term's own design matrix


@dataclass
class Encoding:
    """What is needed to encode new data as the training data were encoded."""

    population: Any  # formulae CommonEffectsMatrix
    # per term, (formulae matrix, its columns) of each formula it spans (one but for shared terms)
    bars: tuple[tuple[tuple[Any, tuple[int, ...]], ...], ...]
    aux_populations: tuple[Any, ...] = ()  # each auxiliary formula's population matrix (spec.aux_parts' order)


@dataclass
class Design:
    spec: ModelSpec
    y: np.ndarray
    X: np.ndarray  # (N, K) population columns, intercept and offsets excluded
    groups: tuple[GroupData, ...]
    encoding: Encoding
    data: pd.DataFrame  # the rows the model uses
    trials: np.ndarray | None = None  # binomial only
    offset: np.ndarray | None = None  # sum of the formula's offset() terms
    weights: np.ndarray | None = None  # likelihood weights
    censoring: np.ndarray | None = None  # cens(): per row 0 none, -1 left, 1 right, 2 interval
    upper: np.ndarray | None = None  # cens(flag, upper): interval-censored rows' upper bounds (else y)
    se: np.ndarray | None = None  # se(): known standard errors
    aux_X: tuple[np.ndarray, ...] = ()  # each auxiliary formula's population columns (spec.aux_parts' order)


def build_design(
    formula: str | ModelFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    priors: Iterable[Prior] | None = None,
    weights: Weights = None,
) -> Design:
    """Read an lme4 formula against a DataFrame.

    `weights` (a column name or one number per row) multiplies each row's
    log-likelihood, as lme4's and brms's weights do. A `bf()` formula adds
    a formula for each of its auxiliary parameters.
    """
    data = as_pandas(data, "data", DataError)
    if len(data) == 0:
        raise DataError("the data frame has no rows; pass the rows to fit (data is empty)")
    fam = make_family(family)
    model_formula = as_model_formula(formula)
    formula = model_formula.formula
    split = split_formula(formula)
    response_terms = parse_response(split.response)
    aux_splits = _aux_splits(model_formula, fam, response_terms)
    data = _with_weights(data, weights)
    rows = _complete_rows(split, response_terms, data, [s for _, s in aux_splits])
    row_weights = rows[_WEIGHTS].to_numpy(dtype=float) if weights is not None else None
    if fam.definition.ordinal:
        (y, levels), trials = evaluate_ordinal_response(response_terms, fam, rows), None
    else:
        y, trials, row_weights = evaluate_response(response_terms, fam, rows, row_weights)
        levels = ()
    censoring = evaluate_censoring(response_terms, y, rows)
    se = evaluate_se(response_terms, rows)
    if se is not None and not response_terms.se_sigma:
        fam = fam.without_aux("sigma")  # the known se are the residual sds
    for name, _ in aux_splits:
        fam = fam.without_aux(name)  # no longer one constant: each row's comes from its formula
    common = _population_matrix(split, rows)
    columns = column_kinds(common)
    matrix = np.asarray(common.design_matrix, dtype=float) if common is not None else np.empty((len(rows), 0))
    check_finite(matrix, [name for name, _ in columns], rows.index, "the data")
    offset_columns = [i for i, (_, kind) in enumerate(columns) if kind == "offset"]
    keep = [i for i, (name, kind) in enumerate(columns) if kind not in ("offset", "intercept")]
    has_intercept = any(kind == "intercept" for _, kind in columns)
    if fam.definition.ordinal and not has_intercept:
        raise FormulaError(
            f"family {fam.name} cannot remove the intercept: its thresholds take the intercept's place "
            f"(as in brms); drop '0 +' or '- 1' from {split.population!r}"
        )
    keep = _identified_columns(matrix, columns, keep, has_intercept)
    X = matrix[:, keep]
    population_names = tuple(columns[i][0] for i in keep)
    offset = matrix[:, offset_columns].sum(axis=1) if offset_columns else None

    terms, groups, bar_encodings, shared_ids = [], [], [], []
    for bar in split.bars:
        for term, group, encoding in _group_terms(bar, rows):
            terms.append(term)
            groups.append(group)
            bar_encodings.append((encoding,))
            shared_ids.append(bar.shared_id)
            check_finite(group.Z, [f"{name} | {term.factor}" for name in term.coefficients], rows.index, "the data")
    prior_y = y if trials is None else y / trials
    defaults = default_priors(
        fam,
        prior_y,
        population_names,
        X,
        has_intercept,
        [(t.factor, t.coefficients, g.Z, t.kind.has_correlations) for t, g in zip(terms, groups)],
        n_thresholds=max(len(levels) - 1, 0),
    )
    aux_parts, aux_X, aux_encodings = [], [], []
    for name, aux_split in aux_splits:
        part, part_X, part_encoding = _aux_population(name, model_formula, aux_split, fam, rows)
        part_terms, part_groups = [], []
        for bar in aux_split.bars:
            for term, group, encoding in _group_terms(bar, rows):
                part_terms.append(replace(term, dpar=name, label=f"{term.label} for {name}"))
                part_groups.append(group)
                bar_encodings.append((encoding,))
                shared_ids.append(bar.shared_id)
                check_finite(group.Z, [f"{c} | {term.factor}" for c in term.coefficients], rows.index, "the data")
        defaults += aux_part_priors(
            fam, name, prior_y, part.population, part_X, part.has_intercept,
            [(t.factor, t.coefficients, g.Z, t.kind.has_correlations) for t, g in zip(part_terms, part_groups)],
        )
        terms += part_terms
        groups += part_groups
        aux_parts.append(part)
        aux_X.append(part_X)
        aux_encodings.append(part_encoding)
    if aux_splits:
        terms, groups, bar_encodings = _share_terms(terms, groups, bar_encodings, shared_ids)
        defaults = _correlation_priors(defaults, terms)
    _check_unique_coefficients(terms)
    spec = ModelSpec(
        formula=" ".join(formula.split()),
        response=response_terms.name,
        family=fam,
        has_intercept=has_intercept,
        population=population_names,
        group_terms=tuple(terms),
        priors=tuple(apply_user_priors(defaults, priors)),
        n_obs=len(rows),
        has_offset=offset is not None,
        has_weights=row_weights is not None,
        censored=censoring is not None,
        known_se=se is not None,
        response_levels=levels,
        aux_parts=tuple(aux_parts),
    )
    encoding = Encoding(common, tuple(bar_encodings), tuple(aux_encodings))
    flags, upper = censoring if censoring is not None else (None, None)
    return Design(
        spec, y, X, tuple(groups), encoding, rows.drop(columns=[_WEIGHTS], errors="ignore"),
        trials, offset, row_weights, flags, upper, se, tuple(aux_X),
    )


def _aux_splits(model_formula: ModelFormula, fam: Family, response: ResponseTerms) -> list[tuple[str, SplitFormula]]:
    """Each auxiliary formula, read as the response's formula is, after
    checking its parameter is one the family has and the model estimates."""
    choices = [aux.name for aux in fam.definition.aux]
    splits = []
    for name, rhs in model_formula.aux:
        if name not in choices:
            raise FormulaError(
                f"bf(): family {fam.name} has no auxiliary parameter {name!r}; "
                f"its auxiliary parameters are: {', '.join(choices) or 'none (it takes no formula besides the response)'}"
            )
        if name == "sigma" and response.se is not None:
            raise FormulaError(
                "bf(): sigma has a formula and the response has se(), which fixes or adds to sigma; "
                "drop se() from the response or the sigma formula"
            )
        splits.append((name, split_formula(f"{name} {rhs}")))
    return splits


def _share_terms(terms, groups, encodings, shared_ids):
    """Terms of one factor with the same ID (`(1 |ID| g)`) in several formulas
    as one correlated term spanning them, in the place of the first; its
    coefficients in formula order (the response's, then each auxiliary one's)."""
    blocks: dict[tuple[str, str], list[int]] = {}
    for i, (term, shared_id) in enumerate(zip(terms, shared_ids)):
        if shared_id is not None:
            blocks.setdefault((term.factor, shared_id), []).append(i)
    merged = {members[0]: members for members in blocks.values() if len(members) > 1}
    absorbed = {i for members in merged.values() for i in members[1:]}
    out_terms, out_groups, out_encodings = [], [], []
    for i, (term, group, encoding) in enumerate(zip(terms, groups, encodings)):
        if i in absorbed:
            continue
        if i in merged:
            members = merged[i]
            term = GroupTerm(
                term.factor,
                tuple(c for m in members for c in terms[m].coefficients),
                term.levels,
                True,
                " + ".join(terms[m].label for m in members),
                parts=tuple(p for m in members for p in terms[m].coefficient_parts),
            )
            group = GroupData(group.index, np.column_stack([groups[m].Z for m in members]))
            encoding = tuple(pair for m in members for pair in encodings[m])
        out_terms.append(term)
        out_groups.append(group)
        out_encodings.append(encoding)
    return out_terms, out_groups, out_encodings


def _correlation_priors(defaults: list[Prior], terms: list[GroupTerm]) -> list[Prior]:
    """The cor defaults the terms use after sharing: a shared term's (dpar
    None) added, those of terms merged into it dropped."""
    used = {(t.factor, None if t.parts else t.dpar) for t in terms if t.kind.has_correlations}
    kept = [p for p in defaults if p.cls != "cor" or (p.group, p.dpar) in used]
    present = {(p.group, p.dpar) for p in kept if p.cls == "cor"}
    return kept + [Prior("lkj", (1.0,), "cor", None, factor, "default", dpar) for factor, dpar in sorted(used - present, key=str)]


def _aux_population(name: str, model_formula: ModelFormula, split: SplitFormula, fam: Family, rows: pd.DataFrame):
    """The AuxPart of parameter `name`, its population columns and their encoding."""
    common = _population_matrix(split, rows)
    columns = column_kinds(common)
    if any(kind == "offset" for _, kind in columns):
        raise FormulaError(f"bf(): the formula of {name} has an offset(), which only the response's formula may have")
    matrix = np.asarray(common.design_matrix, dtype=float) if common is not None else np.empty((len(rows), 0))
    check_finite(matrix, [label for label, _ in columns], rows.index, "the data")
    has_intercept = any(kind == "intercept" for _, kind in columns)
    keep = _identified_columns(matrix, columns, [i for i, (_, k) in enumerate(columns) if k != "intercept"], has_intercept)
    link = next(a for a in fam.definition.aux if a.name == name).formula_link
    rhs = dict(model_formula.aux)[name]
    part = AuxPart(name, rhs, link, has_intercept, tuple(columns[i][0] for i in keep))
    return part, matrix[:, keep], common


_WEIGHTS = "__stanmer_weights__"


def check_finite(
    matrix: np.ndarray, labels: list[str], index: pd.Index, source: str, error: type[Exception] = DataError
) -> None:
    """`error` naming the first model column with an infinite or NaN value:
    Stan would fail on it far from its cause (and a prediction come out inf)."""
    bad_cells = ~np.isfinite(matrix)
    if not bad_cells.any():
        return
    column = int(np.flatnonzero(bad_cells.any(axis=0))[0])
    rows = list(index[bad_cells[:, column]][:5])
    raise error(
        f"model column {labels[column]!r} is not finite ({matrix[bad_cells[:, column], column][0]}) in "
        f"{source} at row(s) {rows}; drop those rows or replace the value"
    )


def _identified_columns(matrix: np.ndarray, columns, keep: list[int], has_intercept: bool) -> list[int]:
    """`keep` without the columns that are linear combinations of earlier
    ones (and of the intercept), as lme4 drops them: their coefficients
    would not be identified."""
    kept_matrix = [np.ones(len(matrix))] if has_intercept else []
    kept, dropped = [], []
    for i in keep:
        column = matrix[:, i]
        scale = np.linalg.norm(column)
        candidate = kept_matrix + [column / scale if scale > 0 else column]
        if scale > 0 and np.linalg.matrix_rank(np.column_stack(candidate), tol=1e-7 * np.sqrt(len(matrix))) == len(candidate):
            kept_matrix, kept = candidate, kept + [i]
        else:
            dropped.append(columns[i][0])
    if dropped:
        warnings.warn(
            f"fixed-effect model matrix is rank deficient so dropping {len(dropped)} column(s): "
            f"{', '.join(dropped)} (each is constant or a linear combination of other columns)",
            UserWarning,
            stacklevel=3,
        )
    return kept


def _with_weights(data: pd.DataFrame, weights) -> pd.DataFrame:
    """The data with the weights as a column, so row filtering keeps them aligned."""
    if weights is None:
        return data
    if isinstance(weights, str):
        if weights not in data.columns:
            raise DataError(f"weights column {weights!r} is not in the data; columns: {', '.join(map(str, data.columns))}")
        values = data[weights]
    else:
        values = np.asarray(weights, dtype=float)
        if values.shape != (len(data),):
            raise DataError(f"weights need one number per row of the data ({len(data)}), got shape {values.shape}")
    values = pd.to_numeric(pd.Series(np.asarray(values), index=data.index), errors="coerce")
    bad = values.notna() & ~(values >= 0)
    if bad.any():
        raise DataError(f"weights must be 0 or more; rows {list(data.index[bad][:5])} are not")
    return data.assign(**{_WEIGHTS: values})


def _complete_rows(
    split: SplitFormula, response: ResponseTerms, data: pd.DataFrame, aux_splits: Sequence[SplitFormula] = ()
) -> pd.DataFrame:
    """The rows with every variable the model uses present (lme4's na.omit)."""
    predictors: set[str] = set()
    for part in (split, *aux_splits):
        if part.population.strip() not in ("1", "0", "-1"):
            predictors |= _variables(f"y__ ~ {part.population}") - {"y__"}
        for bar in part.bars:
            if bar.expr.strip() not in ("1", "0", "-1"):
                predictors |= _variables(f"y__ ~ {bar.expr}") - {"y__"}
    if "Intercept" in predictors:
        raise FormulaError(
            "a predictor column is named 'Intercept', which is stanmer's name for the intercept; "
            "rename the column (e.g. data.rename(columns={'Intercept': 'Intercept_x'})) and refit"
        )
    variables = response.variables() | predictors
    if _WEIGHTS in data.columns:
        variables.add(_WEIGHTS)
    for bar in (*split.bars, *(bar for part in aux_splits for bar in part.bars)):
        variables |= set(bar.factor.split(":"))
    missing = sorted(v for v in variables if v not in data.columns)
    if missing:
        raise FormulaError(
            f"the formula uses column(s) not in the data: {', '.join(missing)}; "
            f"the data has: {', '.join(map(str, data.columns))}"
        )
    duplicated = sorted({name for name in data.columns[data.columns.duplicated()] if name in variables})
    if duplicated:
        raise DataError(
            f"the data has more than one column named {', '.join(map(repr, duplicated))}; "
            "give each column its own name (e.g. data.columns = [...]) so the formula picks one"
        )
    for name in sorted(predictors):
        if pd.api.types.is_datetime64_any_dtype(data[name]) or pd.api.types.is_timedelta64_dtype(data[name]):
            raise DataError(
                f"column {name!r} holds dates or times, which a formula cannot use directly; convert it to a "
                f"number, e.g. data[{name!r}] = (data[{name!r}] - data[{name!r}].min()).dt.days, "
                "or to a categorical for one effect per date"
            )
    used = data[sorted(variables)]
    complete = used.notna().all(axis=1)
    dropped = int((~complete).sum())
    if dropped == len(data):
        raise DataError("every row has a missing value in a variable the model uses; nothing is left to fit")
    if dropped:
        warnings.warn(
            f"{dropped} of {len(data)} rows have missing values in the model's variables and were left out",
            stacklevel=3,
        )
    return data.loc[complete]


def _variables(formula: str) -> set[str]:
    try:
        return set(model_description(formula).var_names) - {""}  # formulae lists numeric literals as ''
    except Exception as exc:  # formulae raises several unrelated types
        raise FormulaError(f"formulae cannot read {formula!r}: {exc}") from exc


def _population_matrix(split: SplitFormula, rows: pd.DataFrame):
    """formulae's matrix of the right-hand side (the response is read apart)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return design_matrices(split.population, rows, na_action="error").common
    except Exception as exc:
        raise FormulaError(f"cannot build the population-level design from {split.population!r}: {exc}") from exc


def column_kinds(common) -> list[tuple[str, str]]:
    """(label, kind) per column; kind is formulae's ("intercept", "offset", ...).
    formulae gives no matrix (None) for a right-hand side without columns, `0`."""
    if common is None:
        return []
    return [(label, term.kind) for term in common.terms.values() for label in term.labels]


def _column_labels(common) -> list[str]:
    return [label for label, _ in column_kinds(common)]


def _group_terms(bar: BarTerm, rows: pd.DataFrame):
    """GroupTerm(s) for one bar; `||` gives one term per coefficient."""
    common = _bar_matrix(bar, rows)
    names = _column_labels(common)
    Z_all = np.asarray(common.design_matrix, dtype=float)
    levels, index = _factor_levels(bar.factor, rows)
    blocks = [list(range(len(names)))] if bar.correlated else [[m] for m in range(len(names))]
    for block in blocks:
        coefficients = tuple(names[m] for m in block)
        term = GroupTerm(bar.factor, coefficients, levels, bar.correlated, bar.label)
        yield term, GroupData(index, Z_all[:, block]), (common, tuple(block))


def _bar_matrix(bar: BarTerm, rows: pd.DataFrame):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            common = design_matrices(bar.expr, rows, na_action="error").common
    except Exception as exc:
        raise FormulaError(f"cannot read the group term {bar.label}: {exc}") from exc
    if common is None or not _column_labels(common):
        raise FormulaError(f"the group term {bar.label} has no coefficients; use '(1 | {bar.factor})'")
    return common


def factor_values(factor: str, rows: pd.DataFrame) -> pd.Series:
    """The grouping factor as strings; `a:b` joins its columns with ':',
    quoting a level that holds ':' so distinct pairs stay distinct."""
    parts = [_as_level_strings(rows[name]) for name in factor.split(":")]
    if len(parts) == 1:
        return parts[0]
    values = parts[0].map(_quoted)
    for part in parts[1:]:
        values = values + ":" + part.map(_quoted)
    return values


def _quoted(level: str) -> str:
    if ":" in level or '"' in level:
        return '"' + level.replace('"', '""') + '"'
    return level


def _as_level_strings(column: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(column) and np.all(np.mod(column.dropna(), 1) == 0):
        column = column.astype("int64")  # 14053.0 → "14053"
    return column.astype(str)


def _factor_levels(factor: str, rows: pd.DataFrame) -> tuple[tuple[str, ...], np.ndarray]:
    values = factor_values(factor, rows)
    levels = tuple(_sorted_levels(factor, rows, values))
    position = {level: i + 1 for i, level in enumerate(levels)}
    return levels, values.map(position).to_numpy(dtype=np.int64)


def _sorted_levels(factor: str, rows: pd.DataFrame, values: pd.Series) -> list[str]:
    """Levels in the order users expect: categorical order, else numeric, else text."""
    unique = pd.unique(values)
    if ":" not in factor:
        column = rows[factor]
        if isinstance(column.dtype, pd.CategoricalDtype):
            seen = set(unique)
            return [str(c) for c in column.cat.categories if str(c) in seen]
        if pd.api.types.is_numeric_dtype(column):
            return sorted(unique, key=float)
    return sorted(unique)


def _check_unique_coefficients(terms: list[GroupTerm]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for term in terms:
        for coef in term.names:
            key = (term.factor, coef)
            if key in seen:
                raise FormulaError(
                    f"coefficient {coef!r} varies by {term.factor!r} twice ({seen[key]} and {term.label}); "
                    "keep one of the terms"
                )
            seen[key] = term.label
