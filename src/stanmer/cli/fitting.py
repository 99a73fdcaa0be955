"""One model to fit from files: what `stanmer fit` runs, and each model of a batch."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FormulaError
from ..families import Family, family
from ..methods import method_options
from ..sampling import SAMPLER_DEFAULTS
from .io import InputError, read_table
from .levels import Levels, apply_levels
from .priors import parse_prior

# The inference method and its settings (stanmer.fit's `method` and method
# options). A request holds them only when set, so fits made before methods
# existed keep their spec hash.
METHOD_KEYS = ("method", "jacobian", "algorithm", "num_paths", "iter")


def method_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The method keys set in `settings` (None and method="sample" mean unset);
    bad combinations raise MethodOptionError before any work."""
    chosen = {key: settings[key] for key in METHOD_KEYS if settings.get(key) is not None}
    if chosen.get("method") == "sample":
        del chosen["method"]
    given = {key: value for key, value in chosen.items() if key != "method"}
    method_options(chosen.get("method", "sample"), settings.get("draws") or 1000, **given)
    return chosen

# --centered / the manifest's `centered`: auto = stanmer.fit's centered=None
# (chosen per term from the data); held in the options only when set, so
# earlier fits keep their spec hash
CENTERING = {"auto": None, "all": True, "none": False}


def centering_option(text: str | None) -> dict[str, Any]:
    """{"centered": bool} for "all"/"none", {} for "auto" (or unset)."""
    if text is None:
        return {}
    if text not in CENTERING:
        raise InputError(f"centered must be one of {', '.join(CENTERING)}, got {text!r}")
    return {} if CENTERING[text] is None else {"centered": CENTERING[text]}


if TYPE_CHECKING:
    import pandas as pd

    from ..results.fit import Fit

@dataclass(frozen=True)
class FitRequest:
    """A model named by files: formula, data file (optionally one group of a
    column), family, priors in the CLI's prior syntax, weights column, sampler options."""

    name: str
    formula: str
    data: Path
    family: str = "gaussian"  # NAME or NAME(LINK)
    priors: tuple[str, ...] = ()
    weights: str | None = None  # a column of the data
    options: dict[str, Any] = field(default_factory=lambda: dict(SAMPLER_DEFAULTS))
    split: tuple[str, Any] | None = None  # (column, value): fit only these rows
    data_sha256: str = ""  # of the data file's bytes: a changed file means a new fit
    problem: str | None = None  # found while reading the manifest; fails the model when run
    # (leader's name, its adaptation.json): start NUTS where the leader ended
    # (batch --warm-start). The posterior does not depend on it: not in the spec hash.
    warm_start: tuple[str, dict[str, Any]] | None = None
    levels: Levels = ()  # ordered categories of text columns (--levels), lowest first

    def rows(self, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """The rows to fit: the data file's (or `table`, already read from it)."""
        rows = read_table(self.data) if table is None else table
        if self.split is not None:
            column, value = self.split
            rows = rows[rows[column] == value]
        return apply_levels(rows, self.levels)

    def spec_hash(self) -> str:
        """What the fit depends on: formula, data content, rows, family, priors, options."""
        content = {
            "formula": " ".join(self.formula.split()),
            "data_sha256": self.data_sha256,
            "split": list(self.split) if self.split else None,
            "family": self.family,
            "priors": list(self.priors),
            "weights": self.weights,
            "options": self.options,
        }
        if self.levels:  # only when set, so earlier fits keep their hash
            content["levels"] = [[column, list(categories)] for column, categories in self.levels]
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def record(self) -> dict[str, Any]:
        """The request as meta.json keeps it."""
        return {
            "name": self.name,
            "data_file": str(self.data),
            "data_sha256": self.data_sha256,
            "split": list(self.split) if self.split else None,
            "cli_priors": list(self.priors),
            "weights": self.weights,
            "spec_hash": self.spec_hash(),
            "warm_start_from": self.warm_start[0] if self.warm_start else None,
        }


def fit_request(
    request: FitRequest,
    progress: bool = False,
    verbose: bool = False,
    parallel_chains: int | None = None,
    table: pd.DataFrame | None = None,
) -> Fit:
    """Fit `request`. `parallel_chains` (cores to use) is the runner's choice,
    not part of the spec; `table` is the data file already read (by a batch
    coordinator, for a worker that cannot see the file)."""
    if request.problem:
        raise InputError(request.problem)
    from .. import api  # the pipeline loads when a model runs, not when the CLI parses its arguments

    priors = [parse_prior(text) for text in request.priors]
    options = dict(request.options)
    if request.warm_start is not None:  # the warmup is then the warm start's
        from ..warm_start import Adaptation

        options |= {"warm_start": Adaptation.from_json(request.warm_start[1]), "warmup": None}
    return api.fit(
        request.formula,
        request.rows(table),
        parse_family(request.family),
        priors,
        weights=request.weights,
        progress=progress,
        verbose=verbose,
        parallel_chains=parallel_chains,
        **options,
    )


_FAMILY = re.compile(r"^\s*(\w+)\s*(?:\(\s*(\w+)\s*\))?\s*$")


def parse_family(text: str) -> Family:
    """A family written NAME or NAME(LINK), as stanmer prints them: "bernoulli(probit)"."""
    match = _FAMILY.match(text)
    if not match:
        raise FormulaError(f"cannot read the family {text!r}; write NAME or NAME(LINK), e.g. 'bernoulli(probit)'")
    return family(match.group(1), match.group(2))


def save_request(fit: Fit, request: FitRequest, folder: Path, seconds: float) -> None:
    """Write the fit files; meta.json (last) records the request and its spec hash."""
    from ..results.persist import save_fit  # loads ArviZ: only when a fit is saved

    # The CLI has already claimed the folder as its own (check_output_folder), so a rerun replaces it.
    # A warm start chose its own warmup: record the one that ran.
    sampler = request.options | ({"warmup": fit.adaptation.warmup} if request.warm_start else {})
    save_fit(fit, folder, overwrite=True, sampler=sampler, extra={"request": request.record(), "run_seconds": seconds})
