"""Save a Fit to a folder and load it back, ready to predict.

A fit folder holds:
- fit.nc        the InferenceData (netCDF, via h5netcdf)
- model.stan    the program that ran
- data.json     the Stan data it ran on (plain JSON, as CmdStan reads it)
- training.csv  the rows the model used; their dtypes are in meta.json, so
                the rows read back are the rows that were fitted
- summary.csv, summary.txt   the posterior summary and `fit.report()`
- adaptation.json   NUTS's adapted metric, step size and last draws (fits
                made by NUTS), so a loaded fit's refit starts warm
- meta.json     formula, family, priors, sampler options, versions, timings,
                diagnostics; written last, so its presence marks a complete folder

CSV rather than Parquet for the rows: pandas needs pyarrow for Parquet, which
stanmer does not depend on, and CSV with recorded dtypes reads back exactly
(floats are written with round-trip precision).

Every file goes to a temporary name first and is then `os.replace`d into
place, so a folder never holds half a file, whenever the process dies.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

import arviz as az
import numpy as np
import pandas as pd

from ..version import __version__
from ..atomic import replacing, write_csv, write_json, write_text
from ..codegen import executable_text
from ..errors import FitFolderError
from ..families import family as make_family
from ..formula import Design, build_design
from ..model_formula import bf
from ..parametrisation import centered_of
from ..pipeline import build_model
from ..priors import Prior
from ..warm_start import Adaptation
from .fit import Fit

FIT_FILES = ("fit.nc", "model.stan", "data.json", "training.csv", "summary.csv", "summary.txt", "meta.json")
ADAPTATION_FILE = "adaptation.json"  # NUTS's adapted metric, step size and last draws, for warm-started refits
META_FILE = "meta.json"
INDEX_COLUMN = "__index__"  # the training rows' index, kept so predictions keep their labels
WEIGHTS_COLUMN = "__weights__"  # the likelihood weights, when the fit had them


# --- save ----------------------------------------------------------------------


def save_fit(
    fit: Fit,
    directory: str | os.PathLike,
    *,
    overwrite: bool = False,
    sampler: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write `fit` to `directory` (created if needed); meta.json comes last.

    A folder already holding any of a saved fit's files is replaced only
    with `overwrite=True`; other files in it are left alone.

    `sampler` records the options the fit ran with (stanmer.fit's keywords;
    a Fit itself only knows its chains, draws, seed and max_treedepth);
    `extra` adds entries to meta.json (the CLI stores the data source there).
    """
    directory = check_save_folder(directory, overwrite)
    try:
        _write_fit(fit, directory, sampler, extra)
    except OSError as error:
        raise FitFolderError(
            f"could not save the fit to {str(directory)!r}: {error}; choose a folder you can write to"
        ) from error
    return directory


def check_save_folder(directory: str | os.PathLike, overwrite: bool = False) -> Path:
    """`directory` if a fit may be saved there; FitFolderError naming the fix if not."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FitFolderError(f"cannot save a fit to {str(directory)!r}: it is a file, not a folder; give a folder path")
    for parent in directory.parents:
        if parent.exists():
            if not parent.is_dir():
                raise FitFolderError(
                    f"cannot save a fit to {str(directory)!r}: {str(parent)!r} is a file, not a folder"
                )
            break
    taken = [name for name in FIT_FILES if (directory / name).exists()]
    if taken and not overwrite:
        raise FitFolderError(
            f"{str(directory)!r} already holds a saved fit ({taken[0]}); pass overwrite=True to replace it, "
            "or choose another folder"
        )
    return directory


def _write_fit(fit: Fit, directory: Path, sampler: Mapping[str, Any] | None, extra: Mapping[str, Any] | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META_FILE).unlink(missing_ok=True)  # the folder is incomplete until the end
    with replacing(directory / "fit.nc") as temporary:
        fit.idata.to_netcdf(str(temporary))
    write_text(directory / "model.stan", fit.stan_code)
    write_json(directory / "data.json", fit.stan_data, indent=None)  # data can be large: one line
    training = _write_training(fit.design, directory / "training.csv")
    write_csv(directory / "summary.csv", fit.summary(), index=True)
    write_text(directory / "summary.txt", fit.report() + "\n")
    if fit.adaptation is not None:
        write_json(directory / ADAPTATION_FILE, fit.adaptation.to_json(), indent=None)
    else:
        (directory / ADAPTATION_FILE).unlink(missing_ok=True)
    meta = {**fit_metadata(fit, sampler), "training": training, **(extra or {})}
    write_json(directory / META_FILE, meta)


def fit_metadata(fit: Fit, sampler: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What meta.json says about a fit (everything but the training rows)."""
    spec, attrs, posterior = fit.spec, fit.idata.attrs, fit.idata.posterior
    return {
        "stanmer_version": __version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "formula": spec.formula,
        **({"aux_formulas": {part.name: part.formula for part in spec.aux_parts}} if spec.aux_parts else {}),
        "family": {"name": spec.family.name, "link": spec.family.link},
        "n_obs": spec.n_obs,
        "priors": [_prior_record(p) for p in spec.priors],
        "centred": centered_of(spec.group_terms),  # per group term, as sampled
        "sampler": {
            "chains": posterior.sizes["chain"],
            "draws": posterior.sizes["draw"],
            "seed": attrs.get("seed"),
            "max_treedepth": fit.max_treedepth,
            "prior_only": bool(fit.stan_data.get("prior_only", 0)),
            **(sampler or {}),
        },
        "engine": {"name": attrs.get("engine"), "version": attrs.get("engine_version")},
        "timings": dict(fit.timings),
        "diagnostics": fit.diagnostics.as_dict(),
        "files": list(FIT_FILES) + ([ADAPTATION_FILE] if fit.adaptation is not None else []),
    }


def _prior_record(p: Prior) -> dict[str, Any]:
    # The numbers are kept exactly; str(p) rounds them for display.
    return {
        "class": p.cls,
        "coef": p.coef,
        "group": p.group,
        **({"dpar": p.dpar} if p.dpar else {}),
        "prior": str(p),
        "distribution": p.distribution,
        "args": list(p.args),
        "source": p.source,
    }


def _write_training(model: Design, path: Path) -> dict[str, Any]:
    table = model.data.reset_index(names=INDEX_COLUMN)
    if model.weights is not None:
        table[WEIGHTS_COLUMN] = model.weights
    write_csv(path, table)
    return {"file": path.name, "columns": {str(name): _dtype_record(table[name]) for name in table.columns}}


def _dtype_record(column: pd.Series) -> dict[str, Any]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        return {
            "dtype": "category",
            "categories": categories.tolist(),
            "categories_dtype": str(categories.dtype),
            "ordered": bool(column.cat.ordered),
        }
    return {"dtype": str(column.dtype)}


# --- load ----------------------------------------------------------------------


def is_complete(directory: str | os.PathLike) -> bool:
    """True when `directory` holds a fully written fit (meta.json and its files)."""
    meta = read_meta(directory)
    return meta is not None and all((Path(directory) / name).exists() for name in meta.get("files", []))


def read_meta(directory: str | os.PathLike) -> dict[str, Any] | None:
    """The folder's meta.json, or None when it is missing or unreadable."""
    try:
        return json.loads((Path(directory) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_fit(directory: str | os.PathLike) -> Fit:
    """The Fit saved in `directory` by `save_fit`.

    The Design is rebuilt by re-reading the formula against the saved training
    rows (deterministic), so the loaded fit predicts exactly as the saved one.
    """
    directory = Path(directory)
    meta = _complete_meta(directory)
    try:
        return _load(directory, meta)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FitFolderError(
            f"the saved fit in {str(directory)!r} is damaged and cannot be read ({type(error).__name__}: {error}); "
            "fit the model again"
        ) from error


def _complete_meta(directory: Path) -> dict[str, Any]:
    """meta.json of a complete saved fit; FitFolderError saying what is wrong otherwise."""
    hint = "save one with fit.save(folder) or `stanmer fit --out`"
    if not directory.is_dir():
        raise FitFolderError(f"{str(directory)!r} is not a folder; give the folder a fit was saved to ({hint})")
    path = directory / META_FILE
    if not path.exists():
        raise FitFolderError(f"{str(directory)!r} holds no complete saved fit ({META_FILE} is missing); {hint}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FitFolderError(f"{str(path)!r} is damaged ({error}); fit the model again") from error
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), list):
        raise FitFolderError(f"{str(path)!r} is not a stanmer fit's {META_FILE}; fit the model again")
    missing = [name for name in meta["files"] if not (directory / name).exists()]
    if missing:
        raise FitFolderError(f"the saved fit in {str(directory)!r} lacks {', '.join(missing)}; fit the model again")
    return meta


def _load(directory: Path, meta: dict[str, Any]) -> Fit:
    rows = _read_training(directory / meta["training"]["file"], meta["training"]["columns"])
    weights = rows.pop(WEIGHTS_COLUMN).to_numpy() if WEIGHTS_COLUMN in rows else None
    family = make_family(meta["family"]["name"], meta["family"]["link"])
    formula = bf(meta["formula"], **meta.get("aux_formulas", {}))
    design = build_design(formula, rows, family, _user_priors(meta["priors"]), weights)
    model = build_model(design, meta["sampler"].get("prior_only", False), meta.get("centred"))
    stan_code = (directory / "model.stan").read_text(encoding="utf-8")
    # compared without comments: a reloaded term's parametrisation reads "set by centered="
    _warn_if_rebuilt_differs(directory, model.executable, executable_text(stan_code), model.standata)
    return Fit(
        spec=model.design.spec,
        idata=az.from_netcdf(str(directory / "fit.nc")),
        stan_code=stan_code,
        stan_data=model.standata,
        design=model.design,
        max_treedepth=meta["sampler"]["max_treedepth"],
        timings=meta.get("timings", {}),
        adaptation=_read_adaptation(directory, meta),
    )


def _read_adaptation(directory: Path, meta: dict[str, Any]) -> Adaptation | None:
    if ADAPTATION_FILE not in meta["files"]:
        return None  # not sampled with NUTS, or saved before stanmer kept it
    return Adaptation.from_json(json.loads((directory / ADAPTATION_FILE).read_text(encoding="utf-8")))


def _user_priors(records: list[dict[str, Any]]) -> list[Prior]:
    # Defaults are recomputed from the same rows, so only the user's are passed.
    return [
        Prior(r["distribution"], tuple(r["args"]), r["class"], r["coef"], r["group"], dpar=r.get("dpar"))
        for r in records
        if r["source"] == "user"
    ]


def _read_training(path: Path, columns: dict[str, dict[str, Any]]) -> pd.DataFrame:
    parse_as = {name: _csv_dtype(record) for name, record in columns.items()}
    # Only empty fields are missing: a country code "NA" must stay a string.
    rows = pd.read_csv(path, dtype=parse_as, keep_default_na=False, na_values=[""])
    for name, record in columns.items():
        is_category = record["dtype"] == "category"
        dtype = record["categories_dtype"] if is_category else record["dtype"]
        if parse_as[name] != dtype:
            rows[name] = rows[name].astype(dtype)
        if is_category:
            categories = pd.Index(record["categories"], dtype=dtype)
            rows[name] = rows[name].astype(pd.CategoricalDtype(categories, record["ordered"]))
    return rows.set_index(INDEX_COLUMN).rename_axis(None)


def _csv_dtype(record: dict[str, Any]) -> str:
    """The dtype read_csv parses a column (or a category column's values) as.

    Floats, dates and the like are read as text and converted afterwards:
    Python's conversion is correctly rounded, read_csv's parser is not always.
    """
    dtype = record["categories_dtype"] if record["dtype"] == "category" else record["dtype"]
    return dtype if pd.api.types.pandas_dtype(dtype).kind in "biuOUS" else "str"


def _warn_if_rebuilt_differs(directory: Path, rebuilt_code: str, stan_code: str, stan_data: dict[str, Any]) -> None:
    saved_data = json.loads((directory / "data.json").read_text(encoding="utf-8"))
    same_data = saved_data.keys() == stan_data.keys() and all(
        np.array_equal(np.asarray(saved_data[key], dtype=float), np.asarray(stan_data[key], dtype=float))
        for key in saved_data
    )
    if rebuilt_code != stan_code or not same_data:
        warnings.warn(
            f"the model rebuilt from {directory} differs from the one saved there (another stanmer "
            "version?); predictions use the saved draws with the rebuilt design",
            stacklevel=3,
        )
