"""Batch manifests (TOML or YAML) → one FitRequest per model to fit (the
format is in MANIFEST_HELP, shown by `stanmer batch --help`).

Problems with the manifest itself stop the batch (ManifestError); problems
with one model's data are left on its request and fail only that model.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..methods import MethodOptionError
from ..sampling import SAMPLER_DEFAULTS
from .fitting import FitRequest, centering_option, method_settings
from .io import InputError, file_sha256, read_table
from .levels import check_levels

if TYPE_CHECKING:
    import pandas as pd

# key -> accepted Python types, as TOML and YAML read them
KEY_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "formula": (str,),
    "data": (str, list),
    "family": (str,),
    "priors": (str, list),
    "split_by": (str,),
    "weights": (str,),
    "levels": (dict,),
    "centered": (str,),
    "engine": (str,),
    "chains": (int,),
    "warmup": (int,),
    "draws": (int,),
    "seed": (int,),
    "adapt_delta": (float, int),
    "max_treedepth": (int,),
    "thin": (int,),
    "method": (str,),
    "jacobian": (bool,),
    "algorithm": (str,),
    "num_paths": (int,),
    "iter": (int,),
}
TYPE_NAMES = {
    str: "text", list: "a list", dict: "a table (column = [categories])", int: "an integer", float: "a number",
    bool: "true or false",
}
REQUIRED_KEYS = ("name", "formula", "data")

MANIFEST_HELP = """\
manifest (TOML; YAML takes the same keys):
  [defaults]                       # any model key but name
  data = "../ifsc/processed_ifsc_boulder_results_2025.csv"   # relative to the manifest
  engine = "stanli"
  chains = 2
  seed = 1

  [[models]]
  name = "semi"                    # output folder DIR/semi/
  formula = "score_final ~ score_semi + (1 | athlete_id)"
  split_by = "gender"              # one model per value: semi-female, semi-male

  [[models]]
  name = "quali"
  formula = "score_final ~ score_quali + (1 | athlete_id)"
  data = ["a.csv", "b.csv"]        # one model per file: quali-a, quali-b
  priors = ["b:normal(0, 1)", "sd:athlete_id:student_t(3, 0, 10)"]
  adapt_delta = 0.95

model keys: name, formula, data, family, priors, split_by, weights, levels (a table
column = [lowest, ..., highest]: an ordered response for family cumulative), centered
(auto, all, none), engine, chains,
warmup, draws, seed, adapt_delta, max_treedepth, thin, and the inference method:
method (sample, optimize, laplace, pathfinder, variational) with jacobian,
algorithm, num_paths, iter (as `stanmer fit --method`). family, priors and weights
read as `stanmer fit --family/--prior/--weights` do. report.csv: name, status (ok, failed, skipped = complete
from an earlier run with the same spec), seconds, max_rhat, divergences, min_ess,
error. Exit code 1 when any model failed."""

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXAMPLES = {"name": 'name = "semi"', "formula": 'formula = "y ~ x + (1 | g)"', "data": 'data = "scores.csv"'}


class ManifestError(InputError):
    """The manifest cannot be read or says something stanmer cannot do."""


def load_manifest(path: str | Path) -> list[FitRequest]:
    path = Path(path)
    document = _parse(path)
    defaults, models = _sections(document, path)
    files = DataFiles()
    requests = []
    for position, model in enumerate(models, 1):
        settings = _settings(defaults, model, position, path)
        requests += _expand(settings, path.parent, files)
    _check_unique_names(requests, path)
    return requests


def _parse(path: Path) -> Any:
    if not path.is_file():
        raise ManifestError(f"manifest {str(path)!r} not found; check the path")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:  # its message ends "(at line L, column C)"
            raise ManifestError(f"cannot read manifest {path.name}: {error}") from None
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(path, text)
    raise ManifestError(f"manifest {path.name}: unknown format {suffix!r}; use .toml, .yaml or .yml")


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error
        raise ManifestError(f"cannot read manifest {path.name}{where}: {problem}") from None


def _sections(document: Any, path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(document, dict):
        raise ManifestError(f"manifest {path.name}: expected keys 'defaults' and 'models' at the top")
    unknown = sorted(set(document) - {"defaults", "models"})
    if unknown:
        raise ManifestError(f"manifest {path.name}: unknown top-level key {unknown[0]!r}; use 'defaults' and 'models'")
    defaults = document.get("defaults", {})
    models = document.get("models")
    if not isinstance(defaults, dict):
        raise ManifestError(f"manifest {path.name}: 'defaults' must be a table of settings")
    if not isinstance(models, list) or not models or not all(isinstance(m, dict) for m in models):
        raise ManifestError(f"manifest {path.name}: add a list of models, e.g. [[models]] with name, formula and data")
    if "name" in defaults:
        raise ManifestError(f"manifest {path.name}: 'defaults' cannot set 'name'; each model names itself")
    _check_keys(defaults, f"manifest {path.name}, defaults")
    return defaults, models


def _settings(defaults: dict[str, Any], model: dict[str, Any], position: int, path: Path) -> dict[str, Any]:
    """The model's settings over the defaults, checked."""
    label = f"manifest {path.name}, model {position}" + (f" ({model['name']!r})" if "name" in model else "")
    _check_keys(model, label)
    settings = {**defaults, **model}
    for key in REQUIRED_KEYS:
        if key not in settings:
            raise ManifestError(f"{label} has no {key!r}; add e.g. {EXAMPLES[key]}")
    if not SAFE_NAME.match(settings["name"]):
        raise ManifestError(f"{label}: name must be letters, digits, '_', '-' or '.' (it names a folder)")
    return settings


def _check_keys(table: dict[str, Any], label: str) -> None:
    for key, value in table.items():
        if key not in KEY_TYPES:
            raise ManifestError(f"{label}: unknown key {key!r}; keys are: {', '.join(KEY_TYPES)}")
        types = KEY_TYPES[key]
        # bool is an int to Python, but `chains = true` is a mistake, not 1
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join(TYPE_NAMES[t] for t in types)
            raise ManifestError(f"{label}: {key!r} must be {expected}, got {value!r}")


def _expand(settings: dict[str, Any], base: Path, files: DataFiles) -> list[FitRequest]:
    """One request per data file, and per value of split_by within each."""
    data = settings["data"]
    named_by_file = isinstance(data, list)
    requests = []
    for file in data if named_by_file else [data]:
        path = base / str(file)
        name = f"{settings['name']}-{_slug(path.stem)}" if named_by_file else settings["name"]
        request = _request(settings, name, path, files)
        if "split_by" in settings:
            requests += _split(request, settings["split_by"], files.table(path))
        else:
            requests.append(request)
    return requests


def _request(settings: dict[str, Any], name: str, path: Path, files: DataFiles) -> FitRequest:
    priors = settings.get("priors", [])
    options = {key: settings.get(key, default) for key, default in SAMPLER_DEFAULTS.items()}
    try:
        options.update(method_settings(settings))
        options.update(centering_option(settings.get("centered")))
    except (MethodOptionError, InputError) as error:
        raise ManifestError(f"model {name!r}: {error}") from error
    exists = path.is_file()
    try:
        levels = check_levels(settings.get("levels", {}).items())
    except InputError as error:
        raise ManifestError(f"model {name!r}: {error}") from error
    return FitRequest(
        name=name,
        formula=settings["formula"],
        data=path,
        family=settings.get("family", "gaussian"),
        priors=tuple(map(str, [priors] if isinstance(priors, str) else priors)),
        weights=settings.get("weights"),
        options=options,
        levels=levels,
        data_sha256=files.sha256(path) if exists else "",
        problem=None if exists else f"data file {str(path)!r} not found; fix 'data' in the manifest",
    )


def _split(request: FitRequest, column: str, table: pd.DataFrame | InputError) -> list[FitRequest]:
    """The request once per value of `column`, named name-value."""
    if request.problem:
        return [request]
    if isinstance(table, InputError):
        return [replace(request, problem=str(table))]
    if column not in table.columns:
        problem = f"split_by column {column!r} is not in {request.data.name}; its columns: {', '.join(table.columns)}"
        return [replace(request, problem=problem)]
    values = sorted(table[column].dropna().unique().tolist())
    return [replace(request, name=f"{request.name}-{_slug(value)}", split=(column, value)) for value in values]


class DataFiles:
    """Each data file of a manifest read and hashed at most once; a file that
    cannot be read is kept as its error, to fail only the models that use it."""

    def __init__(self) -> None:
        self.tables: dict[Path, pd.DataFrame | InputError] = {}
        self.hashes: dict[Path, str] = {}

    def table(self, path: Path) -> pd.DataFrame | InputError:
        if path not in self.tables:
            try:
                self.tables[path] = read_table(path)
            except InputError as error:
                self.tables[path] = error
        return self.tables[path]

    def sha256(self, path: Path) -> str:
        if path not in self.hashes:
            self.hashes[path] = file_sha256(path)
        return self.hashes[path]


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value)).strip("_") or "value"


def _check_unique_names(requests: list[FitRequest], path: Path) -> None:
    seen: set[str] = set()
    for request in requests:
        if request.name in seen:
            raise ManifestError(f"manifest {path.name}: two models are named {request.name!r}; rename one")
        seen.add(request.name)
