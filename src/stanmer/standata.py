"""Stage 2b: ModelSpec + design matrices → the data dict the program reads.

Everything that may change between refits of one structure is here: sizes,
matrices, level indices and prior hyperparameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .formula import Design
from .priors import Prior, distribution_params
from .spec import ModelSpec


def make_standata(design: Design, prior_only: bool = False) -> dict[str, Any]:
    spec = design.spec
    data: dict[str, Any] = {
        "N": spec.n_obs,
        "prior_only": int(prior_only),
        "Y": design.y.astype(np.int64) if spec.family.discrete else design.y,
        "K": len(spec.population),
        "X": design.X,
    }
    if spec.family.definition.ordinal:
        data["n_categories"] = len(spec.response_levels)
    if spec.family.needs_trials:
        data["trials"] = design.trials.astype(np.int64)
    if spec.has_offset:
        data["offsets"] = design.offset
    if spec.has_weights:
        data["weights"] = design.weights
    if spec.known_se:
        data["se"] = design.se
    if spec.censored:
        data.update(censoring_data(design.censoring, design.upper))
    for t, (term, group) in enumerate(zip(spec.group_terms, design.groups), 1):
        data.update(term.kind.data_entries(t, term, group.index, group.Z))
    for part, X in zip(spec.aux_parts, design.aux_X):
        data[f"K_{part.name}"], data[f"X_{part.name}"] = len(part.population), X
    data.update(prior_data(spec))
    return data


# censoring kind in the program -> brms's code in the flag column
CENSORING_CODES = {"exact": 0, "left": -1, "right": 1, "interval": 2}


def censoring_data(flags: np.ndarray, upper: np.ndarray) -> dict[str, Any]:
    """The rows (1-based) of each censoring kind and the interval rows' upper bounds."""
    data: dict[str, Any] = {"Y_upper": upper}
    for kind, code in CENSORING_CODES.items():
        rows = np.flatnonzero(flags == code) + 1
        data[f"N_{kind}"], data[f"rows_{kind}"] = len(rows), rows.astype(np.int64)
    return data


def prior_data(spec: ModelSpec) -> dict[str, Any]:
    """`<target>_prior_<argument>` values, matching codegen's declarations."""
    data: dict[str, Any] = {}
    if spec.population:
        by_coef = {p.coef: p for p in spec.priors_of("b")}
        data.update(_vector_args("b", [by_coef[c] for c in spec.population]))
    if spec.has_intercept and spec.family.definition.ordinal:  # one prior per threshold
        data.update(_vector_args("Intercept", spec.priors_of("Intercept")))
    elif spec.has_intercept:
        data.update(_scalar_args("Intercept", spec.priors_of("Intercept")[0]))
    for t, term in enumerate(spec.group_terms, 1):
        for target in term.kind.prior_targets(spec, t, term):
            if target.size is None:
                data.update(_scalar_args(target.target, target.priors[0]))
            else:
                data.update(_vector_args(target.target, list(target.priors)))
    for name in spec.family.aux:
        data.update(_scalar_args(name, spec.priors_of(name)[0]))
    for part in spec.aux_parts:
        if part.population:
            by_coef = {p.coef: p for p in spec.priors_of("b", dpar=part.name)}
            data.update(_vector_args(f"b_{part.name}", [by_coef[c] for c in part.population]))
        if part.has_intercept:
            data.update(_scalar_args(f"Intercept_{part.name}", spec.priors_of("Intercept", dpar=part.name)[0]))
    return data


def _scalar_args(target: str, prior: Prior) -> dict[str, float]:
    names = distribution_params(prior.distribution)
    return {f"{target}_prior_{arg}": value for arg, value in zip(names, prior.args)}


def _vector_args(target: str, priors: list[Prior]) -> dict[str, np.ndarray]:
    names = distribution_params(priors[0].distribution)
    return {
        f"{target}_prior_{arg}": np.array([p.args[i] for p in priors], dtype=float)
        for i, arg in enumerate(names)
    }
