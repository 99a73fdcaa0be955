"""Predictions from the posterior, computed in numpy (no Stan).

    linpred  = X b + offset + sum over group terms of Z_t r_t[level]
    mean     = inverse link of linpred (for binomial, the success probability)
    response = a draw from the family around the mean

New data are encoded with the training encodings (formulae keeps the
categorical codings and `scale()` centring learnt from the training rows),
so a row of new data gets exactly the numbers a training row would.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import OptionError, PredictionError
from ..families import Family, location
from ..families.base import AUX_LINKS
from ..families.censoring import censored_log_likelihood
from ..formula import factor_values, split_formula
from ..formula.design import check_finite, column_kinds
from ..formula.response import ResponseTerms, evaluate_se, evaluate_trials, parse_response, response_variables
from ..frames import as_pandas
from ..spec import GroupTerm, ModelSpec
from .accessors import flat_draws, summarize_draws
from .idata import coef_dim

KINDS = ("linpred", "mean", "response")
NEW_LEVELS = ("sample", "zero", "error")
# Bound on the (draws x rows x coefficients) intermediates of one chunk of rows.
CHUNK_BYTES = 200 * 2**20
NO_GROUP_TERMS = ("0", "NA", "-1")


# --- public entry points (Fit delegates here) -------------------------------


def predict(
    fit,
    newdata: pd.DataFrame | None = None,
    kind: str = "mean",
    new_levels: str = "sample",
    re_formula: str | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> xr.DataArray:
    """Posterior draws of predictions, dims (chain, draw, obs), obs = newdata's index.

    Ordinal families: kind="response" draws category codes 1..n (as brms's
    posterior_predict; attrs["levels"] names them, code k is levels[k - 1]);
    kind="mean" gives each category's probability, with a last dimension
    named after the response whose coordinates are its categories."""
    _check_choice("kind", kind, KINDS)
    _check_choice("new_levels", new_levels, NEW_LEVELS)
    rows = fit.design.data if newdata is None else _as_frame(newdata)
    rng = np.random.default_rng(seed)
    posterior = _thin(fit.idata.posterior, draws)
    predictor = LinearPredictor.build(fit, rows, selected_terms(fit.spec, re_formula), posterior, new_levels, rng)
    trials = _trials(fit, newdata) if kind == "response" and fit.spec.family.needs_trials else None
    se = _known_se(fit, newdata) if kind == "response" and fit.spec.known_se else None
    values = None
    for chunk, eta, aux in predictor.chunks():
        chunk_trials = None if trials is None else trials[chunk]
        aux = aux if se is None else with_known_se(fit.spec.family, aux, se[chunk])
        scaled = _on_scale(fit.spec.family, eta, kind, aux, rng, chunk_trials)
        if values is None:  # ordinal category probabilities add a dimension
            values = np.empty((predictor.n_draws, len(rows), *scaled.shape[2:]))
        values[:, chunk] = scaled
    return _as_dataarray(values, posterior, np.asarray(rows.index), fit.spec.response, kind, fit.spec.response_levels)


def predict_summary(fit, newdata: pd.DataFrame | None = None, prob: float = 0.95, **options: Any) -> pd.DataFrame:
    """Mean, sd and equal-tailed interval of `predict`, one row per row of newdata;
    an ordinal family's category probabilities give these columns per category,
    e.g. `mean[low]`."""
    predictions = predict(fit, newdata, **options)
    rows = fit.design.data if newdata is None else newdata
    if predictions.ndim == 3:
        return summarize_draws(flat_draws(predictions), rows.index, prob)
    category = fit.spec.response
    return pd.concat(
        [
            summarize_draws(flat_draws(predictions.sel({category: level})), rows.index, prob).add_suffix(f"[{level}]")
            for level in predictions[category].values
        ],
        axis=1,
    )


def posterior_predictive(fit, seed: int | None = None) -> xr.DataArray:
    """Replicated responses for the training rows, stored as the
    `posterior_predictive` group (what arviz.plot_ppc reads), together with
    the `log_likelihood` group, so arviz.loo works on the same idata."""
    replicated = predict(fit, kind="response", seed=seed)
    _store_group(fit.idata, "posterior_predictive", _training_obs(replicated))
    if "log_likelihood" not in fit.idata.groups():
        log_likelihood(fit)
    return fit.idata.posterior_predictive[fit.spec.response]


def log_likelihood(fit) -> xr.DataArray:
    """Pointwise log-likelihood of the training rows, stored as the
    `log_likelihood` group (what arviz.loo and arviz.waic read)."""
    posterior = fit.idata.posterior
    rows = fit.design.data
    predictor = LinearPredictor.build(fit, rows, list(range(len(fit.spec.group_terms))), posterior, "error", None)
    values = np.empty((predictor.n_draws, len(rows)))
    design = fit.design
    definition = fit.spec.family.definition
    for chunk, eta, aux in predictor.chunks():
        trials = None if design.trials is None else design.trials[chunk]
        aux = aux if design.se is None else with_known_se(fit.spec.family, aux, design.se[chunk])
        mean = location(fit.spec.family, eta, aux)
        if design.censoring is None:
            values[:, chunk] = definition.log_likelihood(design.y[chunk], mean, aux, trials)
        else:
            flags, upper = design.censoring[chunk], design.upper[chunk]
            values[:, chunk] = censored_log_likelihood(definition, design.y[chunk], upper, flags, mean, aux)
    if design.weights is not None:
        values *= design.weights  # as brms's log_lik: loo sees the weighted likelihood that was fitted
    pointwise = _as_dataarray(values, posterior, np.asarray(rows.index), fit.spec.response, "log_likelihood")
    _store_group(fit.idata, "log_likelihood", _training_obs(pointwise))
    return fit.idata.log_likelihood[fit.spec.response]


def selected_terms(spec: ModelSpec, re_formula: str | None) -> list[int]:
    """Positions (0-based) of the group terms `re_formula` keeps: None keeps
    all, "~0"/"NA" none, "~(1 | g)" every term grouped by g."""
    every = list(range(len(spec.group_terms)))
    if re_formula is None:
        return every
    text = str(re_formula).strip()
    rhs = text.partition("~")[2] if "~" in text else text
    if "".join(rhs.split()) in NO_GROUP_TERMS:
        return []
    factors = {bar.factor for bar in split_formula(f"y ~ {rhs}").bars}
    unknown = sorted(factors - set(spec.factors))
    if unknown:
        raise PredictionError(
            f"re_formula {re_formula!r} groups by {', '.join(unknown)}, which the model does not; "
            f"its grouping factors are: {', '.join(spec.factors) or 'none'}"
        )
    return [i for i in every if spec.group_terms[i].factor in factors]


# --- the linear predictor ----------------------------------------------------


@dataclass
class GroupPart:
    """One group term's contribution: Z[row] . effects[draw, level of row]."""

    Z: np.ndarray  # (n, M)
    level_index: np.ndarray  # (n,) rows into `effects`' level axis
    effects: np.ndarray  # (S, levels, M): known levels, then new ones


@dataclass
class LinearPredictor:
    X: np.ndarray  # (n, K), columns in the order of b's coef
    offset: np.ndarray  # (n,), the formula's offset() terms summed (0 without)
    b: np.ndarray  # (S, K)
    parts: list[GroupPart]
    aux: dict[str, np.ndarray]  # name -> (S, 1), broadcasts against (S, rows)
    # auxiliary parameters with a formula (bf()): name -> (inverse link, its linear predictor)
    aux_formulas: dict[str, tuple[Any, "LinearPredictor"]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        fit,
        rows: pd.DataFrame,
        terms: list[int],
        posterior: xr.Dataset,
        new_levels: str,
        rng: np.random.Generator | None,
    ) -> "LinearPredictor":
        """`terms` are the group terms to include; `rng` is needed only to sample new levels."""
        design, spec = fit.design, fit.spec
        if len(rows) == 0:
            raise PredictionError("newdata has no rows; pass at least one row to predict")
        _check_columns(rows, _required_columns(design, terms), _numeric_columns(design.data))
        thresholds = list(spec.intercepts) if spec.family.definition.ordinal else []
        location = set(spec.intercepts) | set(spec.population)
        coefs = [str(c) for c in posterior["coef"].values if str(c) in location and str(c) not in thresholds]
        X, offset = _population_part(design.encoding.population, rows, coefs)
        # each term once, so a new level's effects are one draw across the formulas a term spans
        group_parts = {t: _group_part(design, spec.group_terms[t], t, rows, posterior, new_levels, rng) for t in terms}
        parts = _part_columns(spec, group_parts, None)
        aux = {name: flat_draws(posterior[name])[:, None] for name in spec.family.aux}
        if thresholds:  # the ordinal family reads them, they are not part of eta
            aux["thresholds"] = flat_draws(posterior["b"].sel(coef=thresholds))[:, None, :]
        aux_formulas = {}
        for part, encoding in zip(spec.aux_parts, design.encoding.aux_populations):
            own = (["Intercept"] if part.has_intercept else []) + list(part.population)
            part_X, _ = _population_part(encoding, rows, own)
            part_groups = _part_columns(spec, group_parts, part.name)
            b = flat_draws(posterior["b"].sel(coef=list(part.coefficients)))
            predictor = cls(part_X, np.zeros(len(rows)), b, part_groups, {})
            aux_formulas[part.name] = (AUX_LINKS[part.link].inverse, predictor)
        return cls(X, offset, flat_draws(posterior["b"].sel(coef=coefs)), parts, aux, aux_formulas)

    @property
    def n_draws(self) -> int:
        return self.b.shape[0]

    def chunks(self) -> Iterator[tuple[slice, np.ndarray, dict[str, np.ndarray]]]:
        """(rows, eta (S, rows), aux) in chunks small enough to bound memory;
        aux holds each auxiliary parameter, (S, rows) where it has a formula."""
        every = [self, *(predictor for _, predictor in self.aux_formulas.values())]
        widest = max([part.Z.shape[1] for predictor in every for part in predictor.parts] + [1])
        size = max(1, CHUNK_BYTES // (8 * self.n_draws * (widest + 3 + len(self.aux_formulas))))
        for start in range(0, self.X.shape[0], size):
            chunk = slice(start, start + size)
            aux = {name: inverse(predictor.eta(chunk)) for name, (inverse, predictor) in self.aux_formulas.items()}
            yield chunk, self.eta(chunk), {**self.aux, **aux}

    def eta(self, chunk: slice) -> np.ndarray:
        """The linear predictor of the rows in `chunk`, (S, rows)."""
        eta = self.b @ self.X[chunk].T + self.offset[chunk]
        for part in self.parts:
            gathered = part.effects[:, part.level_index[chunk], :]  # (S, rows, M)
            eta += np.einsum("srm,rm->sr", gathered, part.Z[chunk])
        return eta


def _part_columns(spec: ModelSpec, group_parts: dict[int, GroupPart], dpar: str | None) -> list[GroupPart]:
    """The group terms' contributions to the linear predictor of part `dpar`
    (a term shared across formulas adds its columns of that part only)."""
    selected = []
    for t, group in group_parts.items():
        columns = [m for m, part in enumerate(spec.group_terms[t].coefficient_parts) if part == dpar]
        if columns:
            selected.append(GroupPart(group.Z[:, columns], group.level_index, group.effects[..., columns]))
    return selected


def _on_scale(family: Family, eta, kind, aux, rng, trials) -> np.ndarray:
    if kind == "linpred":
        return eta
    mean = location(family, eta, aux)
    if kind == "response":
        return family.definition.draw(mean, aux, rng, trials)
    expected = family.definition.expected
    return mean if expected is None else expected(mean, aux)


# --- encoding new rows as the training rows were encoded ---------------------


def _required_columns(design, terms: list[int]) -> set[str]:
    """The response is not needed: only the right-hand sides are evaluated."""
    needed = _variables(design.encoding.population)
    for encoding in design.encoding.aux_populations:
        needed |= _variables(encoding)
    for t in terms:
        for matrix, _ in design.encoding.bars[t]:
            needed |= _variables(matrix)
        needed |= set(design.spec.group_terms[t].factor.split(":"))
    return needed


def _first_text(column: pd.Series) -> Any:
    """The first value of `column` that is not a number (None if all are, or missing)."""
    if pd.api.types.is_numeric_dtype(column):
        return None
    text = column.notna() & pd.to_numeric(column, errors="coerce").isna()
    return column[text].iloc[0] if text.any() else None


def _numeric_columns(training: pd.DataFrame) -> set[str]:
    return {str(name) for name in training.columns if pd.api.types.is_numeric_dtype(training[name])}


def _variables(matrix) -> set[str]:
    if matrix is None:  # a formula without population columns, `y ~ 0 + (1 | g)`
        return set()
    return {name for term in matrix.terms.values() for name in term.var_names} - {""}  # '' is a numeric literal


def _check_columns(
    rows: pd.DataFrame, needed: set[str], numeric: set[str], needed_for: str = "the model needs"
) -> None:
    missing = sorted(needed - set(rows.columns))
    if missing:
        raise PredictionError(
            f"newdata lacks column(s) {needed_for}: {', '.join(missing)}; "
            f"add them (newdata has: {', '.join(map(str, rows.columns))})"
        )
    examples = {name: _first_text(rows[name]) for name in sorted(needed & numeric)}
    examples = {name: value for name, value in examples.items() if value is not None}
    if examples:
        listed = ", ".join(f"{name} (e.g. {value!r})" for name, value in examples.items())
        raise PredictionError(
            f"newdata has text in column(s) that were numbers in the training data: {listed}; "
            "convert them to numbers (pandas.to_numeric) before predicting"
        )
    incomplete = {name: int(rows[name].isna().sum()) for name in sorted(needed)}
    incomplete = {name: count for name, count in incomplete.items() if count}
    if incomplete:
        listed = ", ".join(f"{name} ({count} rows)" for name, count in incomplete.items())
        raise PredictionError(f"newdata has missing values in: {listed}; drop or fill those rows before predicting")


def _population_part(encoding, rows: pd.DataFrame, coefs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """X with columns in the order of the posterior's `b` (Intercept first), and the summed offsets."""
    if encoding is None:  # a formula without population columns, `y ~ 0 + (1 | g)`
        return np.empty((len(rows), 0)), np.zeros(len(rows))
    matrix = _evaluate(encoding, rows)
    columns = column_kinds(encoding)
    labels = [label for label, _ in columns]
    check_finite(matrix, labels, rows.index, "newdata", PredictionError)
    offsets = [i for i, (_, kind) in enumerate(columns) if kind == "offset"]
    return matrix[:, [labels.index(coef) for coef in coefs]], matrix[:, offsets].sum(axis=1)


_UNSEEN_LEVELS = re.compile(r"The levels \((?P<levels>.*)\) in '(?P<term>.*)' are not present")


def _evaluate(encoding, rows: pd.DataFrame) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            matrix = encoding.evaluate_new_data(rows)
    except ValueError as exc:
        match = _UNSEEN_LEVELS.search(str(exc))
        if match is None:
            raise PredictionError(f"cannot encode newdata as the training data were encoded: {exc}") from exc
        raise _unseen_level_error(encoding, match["term"], match["levels"]) from exc
    return np.asarray(matrix.design_matrix, dtype=float).reshape(len(rows), -1)


def _unseen_level_error(encoding, name: str, levels: str) -> PredictionError:
    """formulae names the term (e.g. `C(k)`); name the column and its known levels too."""
    component = next(
        (c for term in encoding.terms.values() for c in getattr(term, "components", []) if c.name == name),
        None,
    )
    column = ", ".join(sorted(component.var_names)) if component is not None else name
    known = ", ".join(map(str, component.levels)) if component is not None else "?"
    return PredictionError(
        f"column {column!r} has level(s) {levels} in newdata that the training data do not have "
        f"(training levels: {known}); the model has no effect for them, so drop those rows or refit with them"
    )


def _group_part(design, term: GroupTerm, t: int, rows, posterior, new_levels, rng) -> GroupPart:
    Z = np.column_stack([_evaluate(matrix, rows)[:, list(block)] for matrix, block in design.encoding.bars[t]])
    check_finite(Z, [f"{name} | {term.factor}" for name in term.coefficients], rows.index, "newdata", PredictionError)
    values = factor_values(term.factor, rows)
    known = {str(level): i for i, level in enumerate(posterior[term.factor].values)}
    unseen = list(pd.unique(values[~values.isin(list(known))]))
    position = {**known, **{level: len(known) + i for i, level in enumerate(unseen)}}
    known_effects = flat_draws(posterior[f"r_{term.factor}"].sel({coef_dim(term.factor): list(term.names)}))
    new_effects = _new_level_effects(term, unseen, posterior, new_levels, rng)
    return GroupPart(Z, values.map(position).to_numpy(), np.concatenate([known_effects, new_effects], axis=1))


def _trials(fit, newdata: pd.DataFrame | None) -> np.ndarray:
    """Binomial trials per row: the training ones, or read from newdata as
    the formula's response reads them (cbind needs successes and failures)."""
    if newdata is None:
        return fit.design.trials
    response = parse_response(split_formula(fit.spec.formula).response)
    if response.trials is None or not response.trials.isdigit():
        parts = [response.trials] if response.trials is not None else [response.value, response.failures]
        needed = set().union(*(response_variables(ResponseTerms(part)) for part in parts))
        _check_columns(newdata, needed, _numeric_columns(fit.design.data), "that give the binomial trials, which response draws need")
    return evaluate_trials(response, newdata)


def with_known_se(family: Family, aux: dict[str, np.ndarray], se: np.ndarray) -> dict[str, np.ndarray]:
    """se(): each row's residual sd is its known se, or sqrt(sigma^2 + se^2) with se(..., sigma = TRUE)."""
    sigma = np.sqrt(aux["sigma"] ** 2 + se**2) if "sigma" in family.aux else np.broadcast_to(se, (1, len(se)))
    return {**aux, "sigma": sigma}


def _known_se(fit, newdata: pd.DataFrame | None) -> np.ndarray:
    """se() models: the known standard errors of the rows, which response draws need."""
    if newdata is None:
        return fit.design.se
    response = parse_response(split_formula(fit.spec.formula).response)
    _check_columns(newdata, response_variables(ResponseTerms(response.se)), "that give the known standard errors")
    return evaluate_se(response, newdata)


# --- levels not seen in training ---------------------------------------------


def _new_level_effects(term: GroupTerm, unseen: list[str], posterior, new_levels, rng) -> np.ndarray:
    """(S, len(unseen), M) effects for levels the fit has no draws of."""
    S, M = posterior.sizes["chain"] * posterior.sizes["draw"], len(term.coefficients)
    if unseen and new_levels == "error":
        shown = ", ".join(unseen[:10]) + (f" and {len(unseen) - 10} more" if len(unseen) > 10 else "")
        raise PredictionError(
            f"newdata has level(s) of {term.factor!r} not seen in training: {shown}; pass "
            "new_levels='sample' to draw their effects from the fitted group distribution, "
            "or new_levels='zero' to predict them at the population level"
        )
    if not unseen or new_levels == "zero":
        return np.zeros((S, len(unseen), M))
    return _sample_new_levels(term, len(unseen), posterior, rng)


def _sample_new_levels(term: GroupTerm, n_new: int, posterior, rng) -> np.ndarray:
    """Per posterior draw, each new level's effects ~ N(0, Sigma) with Sigma
    from that draw's sds and correlations (brms's sample_new_levels="gaussian")."""
    cdim = coef_dim(term.factor)
    coefs = list(term.names)
    sd = flat_draws(posterior[f"sd_{term.factor}"].sel({cdim: coefs}))  # (S, M)
    z = rng.standard_normal((sd.shape[0], n_new, len(coefs)))

    def correlations() -> np.ndarray:
        return flat_draws(posterior[f"cor_{term.factor}"].sel({cdim: coefs, f"{cdim}2": coefs}))

    return term.kind.new_level_effects(z, sd, correlations)


# --- posterior bookkeeping -----------------------------------------------------


def _thin(posterior: xr.Dataset, draws: int | None) -> xr.Dataset:
    """About `draws` draws, evenly spaced within each chain (at least one per chain)."""
    if draws is None:
        return posterior
    if int(draws) < 1:
        raise OptionError(f"draws must be a positive number of posterior draws, got {draws}")
    n_draws = posterior.sizes["draw"]
    per_chain = min(n_draws, max(1, int(draws) // posterior.sizes["chain"]))
    keep = np.unique(np.linspace(0, n_draws - 1, per_chain).round().astype(int))
    return posterior.isel(draw=keep)


def _as_dataarray(
    values: np.ndarray, posterior: xr.Dataset, obs, name: str, kind: str, levels: tuple[str, ...] = ()
) -> xr.DataArray:
    """`levels`: an ordinal response's categories, the last dimension of
    category probabilities (named after the response) and the names of drawn codes."""
    chains, draws = posterior["chain"].values, posterior["draw"].values
    coords = {"chain": chains, "draw": draws, "obs": obs}
    dims: tuple[str, ...] = ("chain", "draw", "obs")
    if values.ndim == 3:
        dims, coords = dims + (name,), {**coords, name: list(levels)}
    attrs = {"kind": kind, **({"levels": list(levels)} if levels and kind == "response" else {})}
    return xr.DataArray(
        values.reshape(len(chains), len(draws), *values.shape[1:]), dims=dims, coords=coords, name=name, attrs=attrs
    )


def _training_obs(values: xr.DataArray) -> xr.Dataset:
    """Relabel training rows 0..N-1, the `obs` coordinate of observed_data."""
    relabelled = values.assign_coords(obs=np.arange(values.sizes["obs"]))
    relabelled.attrs = {}
    return relabelled.to_dataset()


def _store_group(idata, group: str, dataset: xr.Dataset) -> None:
    if group in idata.groups():
        delattr(idata, group)  # add_groups refuses to overwrite; recomputing replaces
    idata.add_groups({group: dataset})


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def _as_frame(newdata) -> pd.DataFrame:
    return as_pandas(newdata, "newdata", PredictionError)
