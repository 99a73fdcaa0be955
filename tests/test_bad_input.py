"""A catalogue of bad inputs: each must fail with a stanmer error that names
the problem, before any sampling starts.

Each row is (id, call, error type, pattern the message must match). `call`
gets a `Context` holding clean data, a tiny stanli fit and its saved folder;
most rows never reach an engine. Add a row for every bad input a user meets.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer import (
    DataError,
    EngineError,
    FitFolderError,
    FormulaError,
    OptionError,
    PredictionError,
    PriorError,
    StanmerError,
)
from stanmer.cli.io import InputError
from stanmer.cli.main import main
from stanmer.cli.manifest import ManifestError, load_manifest
from stanmer.sampling import SamplerOptions

RNG = np.random.default_rng(7)
N = 24
DATA = pd.DataFrame(
    {
        "y": RNG.normal(size=N),
        "x": RNG.normal(size=N),
        "z": RNG.normal(size=N),
        "g": np.repeat(["a", "b", "c", "d"], N // 4),
        "count": RNG.poisson(3, size=N),
        "flag": RNG.integers(0, 2, size=N),
        "share": RNG.uniform(0.1, 0.9, size=N),
        "when": pd.date_range("2024-01-01", periods=N),
    }
)


@dataclass
class Context:
    data: pd.DataFrame
    fit: stanmer.Fit
    saved: Path  # a complete saved fit of `fit`
    tmp: Path  # a fresh folder for this case

    def copy_saved(self, name: str = "copy") -> Path:
        target = self.tmp / name
        shutil.copytree(self.saved, target)
        return target


@pytest.fixture(scope="module")
def tiny_fit(tmp_path_factory) -> tuple[stanmer.Fit, Path]:
    fitted = stanmer.fit(
        "y ~ x + (1 | g)", DATA, engine="stanli", chains=2, warmup=30, draws=20, seed=1, progress=False
    )
    folder = tmp_path_factory.mktemp("saved") / "fit"
    fitted.save(folder)
    return fitted, folder


@pytest.fixture
def context(tiny_fit, tmp_path) -> Context:
    fitted, folder = tiny_fit
    return Context(DATA.copy(), fitted, folder, tmp_path)


def with_value(column: str, row: int, value: Any) -> Callable[[Context], pd.DataFrame]:
    def change(c: Context) -> pd.DataFrame:
        data = c.data.astype({column: object}) if isinstance(value, str) else c.data
        data.loc[row, column] = value
        return data

    return change


def design(formula: str, data=None, **options) -> Callable[[Context], Any]:
    return lambda c: stanmer.design(formula, c.data if data is None else data(c), **options)


def fit(formula: str = "y ~ x", data=None, **options) -> Callable[[Context], Any]:
    """stanmer.fit with a tiny run; every row using it fails before sampling."""
    settings = {"chains": 1, "warmup": 10, "draws": 10, "progress": False, "engine": "stanli", **options}
    return lambda c: stanmer.fit(formula, c.data if data is None else data(c), **settings)


def predict(newdata: Callable[[Context], Any], **options) -> Callable[[Context], Any]:
    return lambda c: c.fit.predict(newdata(c), **options)


def save_to(target: Callable[[Context], Path]) -> Callable[[Context], Any]:
    return lambda c: c.fit.save(target(c))


def load_damaged(damage: Callable[[Path], Any]) -> Callable[[Context], Any]:
    def call(c: Context) -> Any:
        folder = c.copy_saved()
        damage(folder)
        return stanmer.load(folder).predict()

    return call


def manifest(text: str, suffix: str = ".toml") -> Callable[[Context], Any]:
    def call(c: Context) -> Any:
        DATA.to_csv(c.tmp / "data.csv", index=False)
        path = c.tmp / f"manifest{suffix}"
        path.write_text(text)
        return load_manifest(path)

    return call


def cli(*arguments: str) -> Callable[[Context], Any]:
    """The CLI must answer with exit code 2 and one line on stderr; the row's
    pattern is matched against that line (raised as InputError here)."""

    def call(c: Context) -> Any:
        DATA.to_csv(c.tmp / "data.csv", index=False)
        (c.tmp / "a_file").write_text("not a folder")
        argv = [a.format(tmp=c.tmp, saved=c.saved) for a in arguments]
        code, err = _run_cli(argv)
        assert code == 2, (code, err)
        assert err.startswith("stanmer: error: ") and err.count("\n") == 1, err
        raise InputError(err)

    return call


def _run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def write(name: str, text: str | bytes) -> Callable[[Path], Any]:
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)

    return damage


def truncate(name: str) -> Callable[[Path], Any]:
    def damage(folder: Path) -> None:
        content = (folder / name).read_bytes()
        (folder / name).write_bytes(content[: len(content) // 2])

    return damage


def remove(name: str) -> Callable[[Path], Any]:
    return lambda folder: (folder / name).unlink()


def edit_meta(change: Callable[[dict], Any]) -> Callable[[Path], Any]:
    def damage(folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        change(meta)
        (folder / "meta.json").write_text(json.dumps(meta))

    return damage


def options(**values) -> Callable[[Context], Any]:
    return lambda c: SamplerOptions(**values)


CASES: list[tuple[str, Callable[[Context], Any], type[Exception], str]] = [
    # --- formula ------------------------------------------------------------
    ("formula-empty", design(""), FormulaError, r"formula"),
    ("formula-no-tilde", design("y x"), FormulaError, r"~"),
    ("formula-no-response", design("~ x"), FormulaError, r"response|left"),
    ("formula-unknown-column", design("y ~ nope"), FormulaError, r"nope"),
    ("formula-unknown-response", design("nope ~ x"), FormulaError, r"nope"),
    ("formula-unknown-group", design("y ~ x + (1 | nope)"), FormulaError, r"nope"),
    ("formula-unbalanced-paren", design("y ~ x + (1 | g"), FormulaError, r"parenthes|\(|formula"),
    ("formula-bar-without-group", design("y ~ x + (1 | )"), FormulaError, r"group|\|"),
    ("formula-double-bar-empty", design("y ~ (x || )"), FormulaError, r"group|\|"),
    ("formula-garbage", design("y ~ x +* z"), FormulaError, r"formula|\*"),
    ("formula-not-text", design(42), FormulaError, r"formula"),
    ("formula-intercept-column", design("y ~ Intercept", lambda c: c.data.assign(Intercept=1.0)), FormulaError, r"Intercept"),
    ("formula-dates", design("y ~ when"), DataError, r"when.*dates"),
    ("formula-duplicated-coefficient", design("y ~ x + (1 | g) + (1 | g)"), FormulaError, r"g"),
    # --- data ---------------------------------------------------------------
    ("data-not-frame", design("y ~ x", lambda c: c.data.to_dict()), DataError, r"DataFrame"),
    ("data-list", design("y ~ x", lambda c: [1, 2, 3]), DataError, r"DataFrame"),
    ("data-empty", design("y ~ x", lambda c: c.data.iloc[:0]), DataError, r"no rows"),
    ("data-all-missing", design("y ~ x", lambda c: c.data.assign(x=np.nan)), DataError, r"missing"),
    ("data-inf-predictor", design("y ~ x", with_value("x", 3, np.inf)), DataError, r"'x'.*not finite.*\[3\]"),
    ("data-neg-inf-predictor", design("y ~ x", with_value("x", 5, -np.inf)), DataError, r"'x'.*not finite"),
    ("data-inf-slope", design("y ~ (x | g)", with_value("x", 2, np.inf)), DataError, r"x \| g.*not finite"),
    ("data-division-by-zero", design("y ~ I(1 / z)", lambda c: c.data.assign(z=0.0)), DataError, r"I\(1 / z\).*not finite"),
    ("data-inf-response", design("y ~ x", with_value("y", 1, np.inf)), DataError, r"finite.*'y'.*row 1"),
    ("data-duplicated-column", design("y ~ x", lambda c: c.data.rename(columns={"z": "x"})), DataError, r"more than one column named 'x'"),
    ("data-text-response", design("y ~ x", with_value("y", 0, "abc")), FormulaError, r"'y' is text.*abc"),
    ("data-weights-missing-column", design("y ~ x", weights="nope"), DataError, r"nope"),
    ("data-weights-negative", design("y ~ x", weights=-np.ones(N)), DataError, r"weights.*0 or more"),
    ("data-weights-wrong-length", design("y ~ x", weights=np.ones(3)), DataError, r"one number per row"),
    ("data-bernoulli-three-levels", design("g ~ x", family="bernoulli"), DataError, r"two levels.*'g' has 4"),
    # --- family -------------------------------------------------------------
    ("family-unknown", design("y ~ x", family="gaussain"), StanmerError, r"gaussain"),
    ("family-bad-link", lambda c: stanmer.family("gaussian", "nope"), StanmerError, r"nope"),
    ("family-not-text", design("y ~ x", family=3), StanmerError, r"family"),
    ("family-poisson-negative", design("y ~ x", family="poisson"), DataError, r"poisson|count|negative|whole"),
    ("family-poisson-fraction", design("share ~ x", family="poisson"), DataError, r"share"),
    ("family-bernoulli-counts", design("count ~ x", family="bernoulli"), DataError, r"count"),
    ("family-beta-outside", design("y ~ x", family="beta"), DataError, r"beta|0 and 1|\(0, 1\)"),
    ("family-gamma-negative", design("y ~ x", family="gamma"), DataError, r"positive|gamma"),
    ("family-lognormal-negative", design("y ~ x", family="lognormal"), DataError, r"positive|lognormal"),
    ("family-binomial-no-trials", design("count ~ x", family="binomial"), StanmerError, r"trials|cbind|binomial"),
    ("family-negbinomial-fraction", design("share ~ x", family="negbinomial"), DataError, r"share"),
    ("family-cumulative-text", design("g ~ x", family="cumulative"), DataError, r"'g' is text.*ordered=True"),
    ("family-cumulative-unordered", design("g ~ x", lambda c: c.data.assign(g=pd.Categorical(c.data["g"])), family="cumulative"), DataError, r"unordered categorical.*ordered=True"),
    ("family-cumulative-empty-category", design("g ~ x", lambda c: c.data.assign(g=pd.Categorical(c.data["g"], categories=["a", "b", "e", "c", "d"], ordered=True)), family="cumulative"), DataError, r"category 'e'.*no observations.*remove_unused_categories"),
    ("family-cumulative-two-categories", design("flag ~ x", family="cumulative"), DataError, r"at least 3 categories.*'flag' has 2.*bernoulli"),
    ("family-cumulative-fraction", design("share ~ x", family="cumulative"), DataError, r"whole numbers or an ordered categorical.*'share'"),
    ("family-cumulative-no-intercept", design("count ~ 0 + x", family="cumulative"), FormulaError, r"cannot remove the intercept.*thresholds"),
    ("family-cumulative-trials", design("count | trials(9) ~ x", family="cumulative"), FormulaError, r"cumulative takes no trials\(\)"),
    ("family-cumulative-unknown-threshold", design("count ~ x", family="cumulative", priors=[stanmer.prior("normal(0, 1)", "Intercept", coef="99")]), PriorError, r"no coefficient '99'"),
    ("family-cumulative-mixed-threshold-priors", fit("count ~ x", family="cumulative", priors=[stanmer.prior("normal(0, 1)", "Intercept", coef="1")]), PriorError, r"thresholds|Intercept.*mix distributions"),
    # --- priors -------------------------------------------------------------
    ("prior-unparsable", lambda c: stanmer.prior("normal 0 1"), PriorError, r"normal 0 1"),
    ("prior-unknown-distribution", lambda c: stanmer.prior("nromal(0, 1)"), PriorError, r"nromal"),
    ("prior-argument-count", lambda c: stanmer.prior("normal(0)"), PriorError, r"2 argument"),
    ("prior-argument-text", lambda c: stanmer.prior("normal(0, a)"), PriorError, r"number"),
    ("prior-negative-scale", lambda c: stanmer.prior("normal(0, -1)"), PriorError, r"positive"),
    ("prior-zero-scale", lambda c: stanmer.prior("student_t(3, 0, 0)"), PriorError, r"positive"),
    ("prior-infinite-scale", lambda c: stanmer.prior("normal(0, inf)"), PriorError, r"finite"),
    ("prior-nan-location", lambda c: stanmer.prior("normal(nan, 1)"), PriorError, r"finite"),
    ("prior-infinite-object", design("y ~ x", priors=[stanmer.Prior("normal", (0.0, math.inf), "b")]), PriorError, r"finite"),
    ("prior-unknown-class", lambda c: stanmer.prior("normal(0, 1)", "beta"), PriorError, r"'beta'"),
    ("prior-class-support", lambda c: stanmer.prior("normal(0, 1)", "cor"), PriorError, r"cor"),
    ("prior-unknown-coef", design("y ~ x", priors=[stanmer.prior("normal(0, 1)", "b", coef="nope")]), PriorError, r"nope"),
    ("prior-unknown-group", design("y ~ x + (1 | g)", priors=[stanmer.prior("exponential(1)", "sd", group="h")]), PriorError, r"h"),
    ("prior-not-prior", design("y ~ x", priors=["normal(0, 1)"]), PriorError, r"stanmer.prior"),
    ("prior-aux-wrong-family", design("y ~ x", priors=[stanmer.prior("exponential(1)", "phi")]), PriorError, r"phi"),
    ("prior-sd-without-groups", design("y ~ x", priors=[stanmer.prior("exponential(1)", "sd")]), PriorError, r"sd"),
    # --- options ------------------------------------------------------------
    ("option-seed-text", fit(seed="abc"), OptionError, r"seed.*'abc'"),
    ("option-seed-negative", fit(seed=-1), OptionError, r"seed"),
    ("option-seed-huge", fit(seed=2**40), OptionError, r"seed.*32-bit"),
    ("option-seed-float", fit(seed=1.5), OptionError, r"seed"),
    ("option-chains-zero", fit(chains=0), OptionError, r"chains"),
    ("option-chains-text", fit(chains="4"), OptionError, r"chains"),
    ("option-draws-float", fit(draws=150.7), OptionError, r"draws"),
    ("option-draws-bool", fit(draws=True), OptionError, r"draws"),
    ("option-warmup-negative", fit(warmup=-1), OptionError, r"warmup"),
    ("option-thin-above-draws", fit(thin=50), OptionError, r"thin"),
    ("option-adapt-delta-one", fit(adapt_delta=1.0), OptionError, r"adapt_delta"),
    ("option-adapt-delta-text", fit(adapt_delta="high"), OptionError, r"adapt_delta"),
    ("option-treedepth-zero", fit(max_treedepth=0), OptionError, r"max_treedepth"),
    ("option-parallel-chains-zero", fit(parallel_chains=0), OptionError, r"parallel_chains"),
    ("option-progress-text", fit(progress="yes"), OptionError, r"progress"),
    ("option-inits-text", fit(inits="random"), OptionError, r"init"),
    ("option-inits-negative", fit(inits=-1.0), OptionError, r"init"),
    ("option-inits-wrong-count", fit(chains=2, inits=[{}, {}, {}]), OptionError, r"init"),
    ("option-sample-prior", fit(sample_prior="yes"), OptionError, r"sample_prior"),
    ("option-engine-unknown", fit(engine="stan"), EngineError, r"'stan'.*auto, stanli"),
    # --- prediction ---------------------------------------------------------
    ("predict-not-frame", predict(lambda c: [1, 2]), PredictionError, r"DataFrame"),
    ("predict-no-rows", predict(lambda c: c.data.iloc[:0]), PredictionError, r"no rows"),
    ("predict-missing-column", predict(lambda c: c.data.drop(columns="x")), PredictionError, r"lacks.*x"),
    ("predict-missing-value", predict(lambda c: c.data.assign(x=np.nan)), PredictionError, r"missing.*x"),
    ("predict-text-in-numeric", predict(with_value("x", 2, "abc")), PredictionError, r"x.*'abc'"),
    ("predict-inf", predict(with_value("x", 2, np.inf)), PredictionError, r"'x'.*not finite.*\[2\]"),
    ("predict-unseen-level-error", predict(with_value("g", 0, "zz"), new_levels="error"), PredictionError, r"zz"),
    ("predict-kind", predict(lambda c: c.data, kind="median"), OptionError, r"kind"),
    ("predict-new-levels", predict(lambda c: c.data, new_levels="drop"), OptionError, r"new_levels"),
    ("predict-draws-zero", predict(lambda c: c.data, draws=0), OptionError, r"draws"),
    ("predict-prob", lambda c: c.fit.predict_summary(c.data, prob=1.5), OptionError, r"prob"),
    ("predict-re-formula-unknown", predict(lambda c: c.data, re_formula="~ (1 | h)"), PredictionError, r"h"),
    # --- persistence --------------------------------------------------------
    ("save-existing-fit", save_to(lambda c: c.copy_saved()), FitFolderError, r"overwrite=True"),
    ("save-onto-file", save_to(lambda c: _file(c.tmp / "taken")), FitFolderError, r"is a file"),
    ("save-under-file", save_to(lambda c: _file(c.tmp / "taken") / "sub"), FitFolderError, r"is a file"),
    ("load-missing-folder", lambda c: stanmer.load(c.tmp / "nowhere"), FitFolderError, r"nowhere.*not a folder"),
    ("load-empty-folder", lambda c: stanmer.load(c.tmp), FitFolderError, r"meta.json is missing"),
    ("load-garbage-netcdf", load_damaged(write("fit.nc", b"garbage")), FitFolderError, r"damaged"),
    ("load-truncated-netcdf", load_damaged(truncate("fit.nc")), FitFolderError, r"damaged"),
    ("load-corrupt-meta", load_damaged(write("meta.json", "{not json")), FitFolderError, r"meta.json.*damaged"),
    ("load-meta-not-stanmer", load_damaged(write("meta.json", "[]")), FitFolderError, r"not a stanmer"),
    ("load-meta-missing-key", load_damaged(edit_meta(lambda m: m.pop("formula"))), FitFolderError, r"formula"),
    ("load-missing-training", load_damaged(remove("training.csv")), FitFolderError, r"lacks training.csv"),
    ("load-garbage-training", load_damaged(write("training.csv", "\x00\x01")), FitFolderError, r"damaged"),
    ("load-truncated-data-json", load_damaged(truncate("data.json")), FitFolderError, r"damaged"),
    # --- manifests ----------------------------------------------------------
    ("manifest-missing", lambda c: load_manifest(c.tmp / "none.toml"), ManifestError, r"not found"),
    ("manifest-format", manifest("x", ".ini"), ManifestError, r"\.ini"),
    ("manifest-toml-syntax", manifest("[[models]\nname="), ManifestError, r"cannot read"),
    ("manifest-yaml-syntax", manifest("models: [\n", ".yaml"), ManifestError, r"cannot read"),
    ("manifest-no-models", manifest("[defaults]\nchains = 2\n"), ManifestError, r"models"),
    ("manifest-unknown-top", manifest('[[model]]\nname = "a"\n'), ManifestError, r"'model'"),
    ("manifest-no-formula", manifest('[[models]]\nname = "a"\ndata = "data.csv"\n'), ManifestError, r"'formula'"),
    ("manifest-bad-name", manifest('[[models]]\nname = "a/b"\nformula = "y ~ x"\ndata = "data.csv"\n'), ManifestError, r"name"),
    ("manifest-unknown-key", manifest('[[models]]\nname = "a"\nformula = "y ~ x"\ndata = "data.csv"\nchain = 2\n'), ManifestError, r"'chain'"),
    ("manifest-wrong-type", manifest('[[models]]\nname = "a"\nformula = "y ~ x"\ndata = "data.csv"\nchains = "2"\n'), ManifestError, r"'chains'.*integer"),
    ("manifest-duplicate-names", manifest('[[models]]\nname = "a"\nformula = "y ~ x"\ndata = "data.csv"\n[[models]]\nname = "a"\nformula = "y ~ z"\ndata = "data.csv"\n'), ManifestError, r"two models are named 'a'"),
    ("manifest-defaults-name", manifest('[defaults]\nname = "a"\n[[models]]\nname = "b"\nformula = "y ~ x"\ndata = "data.csv"\n'), ManifestError, r"'name'"),
    # --- the command line ---------------------------------------------------
    ("cli-missing-data", cli("fit", "y ~ x", "--data", "{tmp}/none.csv", "--out", "{tmp}/out"), InputError, r"none.csv.*not found"),
    ("cli-out-is-file", cli("fit", "y ~ x", "--data", "{tmp}/data.csv", "--out", "{tmp}/a_file"), InputError, r"a_file.*is a file"),
    ("cli-out-under-file", cli("fit", "y ~ x", "--data", "{tmp}/data.csv", "--out", "{tmp}/a_file/out"), InputError, r"a_file.*which is a file"),
    ("cli-bad-family", cli("fit", "y ~ x", "--data", "{tmp}/data.csv", "--out", "{tmp}/out", "--family", "gauss(("), InputError, r"gauss\(\("),
    ("cli-bad-prior", cli("fit", "y ~ x", "--data", "{tmp}/data.csv", "--out", "{tmp}/out", "--prior", "b:normal(0,"), InputError, r"normal\(0,"),
    ("cli-unknown-column", cli("fit", "y ~ nope", "--data", "{tmp}/data.csv", "--out", "{tmp}/out"), InputError, r"nope"),
    ("cli-predict-out-folder", cli("predict", "{saved}", "--newdata", "{tmp}/data.csv", "--out", "{tmp}"), InputError, r"is a folder"),
    ("cli-predict-damaged-fit", cli("predict", "{tmp}", "--newdata", "{tmp}/data.csv", "--out", "-"), InputError, r"meta.json is missing"),
    ("cli-data-unknown-format", cli("code", "y ~ x", "--data", "{tmp}/a_file"), InputError, r"unknown format"),
    ("cli-summary-not-fit", cli("summary", "{tmp}"), InputError, r"neither a complete fit"),
]


def _file(path: Path) -> Path:
    path.write_text("taken")
    return path


def test_the_catalogue_is_large_and_distinct() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 80


@pytest.mark.parametrize("call, error, pattern", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_named(call, error, pattern, context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing here may reach a sampler: fail loudly if one starts.
    from stanmer.engines.base import CompiledProgram

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampling started before the bad input was caught")

    monkeypatch.setattr(CompiledProgram, "sample", no_sampling)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a warning on the way (rows dropped) is not the point here
        with pytest.raises(error) as raised:
            call(context)
    assert isinstance(raised.value, StanmerError)
    assert re.search(pattern, str(raised.value), re.S), str(raised.value)
