"""The `stanmer` command line, run as users run it: in subprocesses.

Most error messages are checked in-process through `main` (what the script
runs), since every subprocess spends seconds importing. Every fit uses stanli
with short chains; the module takes about a minute.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

from stanmer.codegen import executable_text
from stanmer.cli.main import main
from stanmer.cli.parser import build_parser
from stanmer.cli.priors import parse_prior
from stanmer.errors import PriorError
from stanmer.results.persist import load_fit, save_fit

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "ifsc" / "processed_ifsc_boulder_results_2025.csv"
SHORT = ["--engine", "stanli", "--chains", "2", "--warmup", "300", "--draws", "300", "--seed", "1"]
FORMULA = "score_final ~ score_semi + (1 | athlete_id)"
FIT_FILES = ["fit.nc", "model.stan", "data.json", "training.csv", "summary.csv", "summary.txt", "meta.json"]
SHORT_DEFAULTS = f'[defaults]\ndata = "{REFERENCE}"\nengine = "stanli"\nchains = 2\nwarmup = 300\ndraws = 300\n'


def cli_command(*args):
    return [sys.executable, "-m", "stanmer", *map(str, args)]


def cli_env(**extra):
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def stanmer_cli(*args, env=None):
    command = cli_command(*args)
    return subprocess.run(command, capture_output=True, text=True, env=env or cli_env(), cwd=ROOT, timeout=120)


def start_stanmer_cli(*args, **popen):
    return subprocess.Popen(cli_command(*args), env=cli_env(), cwd=ROOT, text=True, **popen)


def assert_complete_fit_folder(folder: Path) -> dict:
    """Every fit file is there and parses; returns meta.json."""
    assert all((folder / name).is_file() for name in FIT_FILES)
    meta = json.loads((folder / "meta.json").read_text())
    json.loads((folder / "data.json").read_text())
    assert az.from_netcdf(folder / "fit.nc").posterior.sizes["draw"] == 300
    assert len(pd.read_csv(folder / "summary.csv")) > 0
    assert len(pd.read_csv(folder / "training.csv")) == meta["n_obs"]
    assert "Formula:" in (folder / "summary.txt").read_text()
    assert "model {" in (folder / "model.stan").read_text()
    assert not list(folder.glob(".*.tmp"))
    return meta


# --- fit, predict, summary, code ----------------------------------------------------------


def test_fit_then_predict_round_trip(tmp_path):
    newdata = pd.read_csv(REFERENCE).head(6)
    newdata.loc[5, "athlete_id"] = 999999  # a level the fit never saw
    newdata.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "semi"

    fitted = stanmer_cli(
        "fit", FORMULA, "--data", REFERENCE, *SHORT, "--prior", "sd:athlete_id:student_t(3, 0, 10)", "--out", out
    )
    assert fitted.returncode == 0, fitted.stderr
    assert "Population-level effects" in fitted.stdout
    meta = assert_complete_fit_folder(out)
    assert meta["formula"] == FORMULA and meta["sampler"]["warmup"] == 300
    sd_prior = next(p for p in meta["priors"] if p["class"] == "sd")
    assert (sd_prior["group"], sd_prior["prior"], sd_prior["source"]) == ("athlete_id", "student_t(3, 0, 10)", "user")

    predicted = stanmer_cli(
        "predict", out, "--newdata", tmp_path / "new.csv", "--new-levels", "zero", "--out", tmp_path / "pred.csv"
    )
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(tmp_path / "pred.csv")
    assert list(table.columns) == list(newdata.columns) + ["mean", "sd", "q2.5", "q97.5"]
    expected = load_fit(out).predict_summary(newdata, kind="mean", new_levels="zero")
    np.testing.assert_allclose(table[["mean", "sd", "q2.5", "q97.5"]].to_numpy(), expected.to_numpy(), rtol=1e-12)

    summary = stanmer_cli("summary", out)
    assert summary.returncode == 0 and summary.stdout == (out / "summary.txt").read_text()


@pytest.mark.filterwarnings("ignore::stanmer.SamplingWarning")
def test_saved_fit_predicts_exactly_as_before(tmp_path):
    import stanmer

    data = pd.read_csv(REFERENCE)
    data["gender"] = pd.Categorical(data["gender"], categories=["male", "female"])  # dtypes must survive
    fitted = stanmer.fit(
        "score_final ~ score_semi + gender + (1 | athlete_id)",
        data,
        priors=[stanmer.prior("normal(0, 1.234567891)", "b", coef="score_semi")],
        weights=np.linspace(0.5, 1.5, len(data)),
        engine="stanli",
        chains=2,
        warmup=300,
        draws=300,
        seed=3,
        progress=False,
    )
    save_fit(fitted, tmp_path / "fit")
    loaded = load_fit(tmp_path / "fit")

    pd.testing.assert_frame_equal(loaded.design.data, fitted.design.data)
    np.testing.assert_array_equal(loaded.design.weights, fitted.design.weights)
    assert loaded.spec == fitted.spec
    new = data.tail(8)
    for kind in ("mean", "response"):
        before = fitted.predict_summary(new, kind=kind, seed=5)
        after = loaded.predict_summary(new, kind=kind, seed=5)
        pd.testing.assert_frame_equal(before, after)


def test_code_prints_the_program_and_writes_its_data(tmp_path, capsys):
    data_json = tmp_path / "data.json"
    arguments = ["code", FORMULA, "--data", REFERENCE, "--family", "gaussian(log)", "--data-json", data_json]
    assert main(list(map(str, arguments))) == 0
    program = capsys.readouterr().out
    assert program.startswith("// Generated by stanmer") and "model {" in program
    assert "gaussian(log)" in program
    assert json.loads(data_json.read_text())["N"] == 72


# --- batch --------------------------------------------------------------------------------

SIX_MODELS = f"""
[[models]]
name = "semi"
formula = "{FORMULA}"
split_by = "gender"

[[models]]
name = "quali"
formula = "score_final ~ score_quali + (1 | comp_id)"
data = ["female.csv", "male.csv"]

[[models]]
name = "tight"
formula = "score_final ~ score_semi + score_quali + (1 | athlete_id) + (1 | comp_id)"
priors = ["b:normal(0, 1)", "sd:athlete_id:student_t(3, 0, 10)"]
adapt_delta = 0.9

[[models]]
name = "broken"
formula = "score_final ~ no_such_column + (1 | athlete_id)"
"""


def test_batch_records_a_bad_model_and_finishes_the_others(tmp_path):
    reference = pd.read_csv(REFERENCE)
    for gender, rows in reference.groupby("gender"):
        rows.to_csv(tmp_path / f"{gender}.csv", index=False)
    (tmp_path / "batch.toml").write_text(SHORT_DEFAULTS + SIX_MODELS)
    out, cache = tmp_path / "out", tmp_path / "cache"

    with_cache = cli_env(STANMER_CACHE_DIR=str(cache))
    result = stanmer_cli("batch", tmp_path / "batch.toml", "--jobs", 2, "--out", out, env=with_cache)

    assert result.returncode == 1, result.stderr
    assert "1 failed" in result.stdout
    assert result.stderr.count("] ok ") == 5 and "done 5, failed 1" in result.stderr
    report = pd.read_csv(out / "report.csv", keep_default_na=False).set_index("name")
    good = ["semi-female", "semi-male", "quali-female", "quali-male", "tight"]
    assert list(report.index) == good + ["broken"]
    assert (report.loc[good, "status"] == "ok").all()
    assert report.loc["broken", "status"] == "failed" and "no_such_column" in report.loc["broken", "error"]
    assert "no_such_column" in (out / "broken" / "log.txt").read_text()
    assert not (out / "broken" / "meta.json").exists()

    metas = {name: assert_complete_fit_folder(out / name) for name in good}
    # Each distinct program (the halves of the split share one) was compiled
    # once, before any model ran: no fit compiled its own.
    programs = {executable_text((out / name / "model.stan").read_text()) for name in good}
    assert len(programs) < len(good)
    assert not any(meta["timings"]["compiled"] for meta in metas.values())
    assert len(list(cache.rglob("*.mir"))) == len(programs)
    assert metas["semi-male"]["request"]["split"] == ["gender", "male"]
    assert metas["semi-male"]["n_obs"] == (reference["gender"] == "male").sum()

    summary = stanmer_cli("summary", out)
    assert summary.returncode == 0 and "broken" in summary.stdout and "semi-male" in summary.stdout


def test_killed_batch_resumes_without_refitting_finished_models(tmp_path):
    names = [f"m{k}" for k in range(6)]
    models = "".join(f"  - name: {name}\n    formula: {FORMULA}\n    seed: {k}\n" for k, name in enumerate(names))
    (tmp_path / "batch.yaml").write_text(
        f"defaults:\n  data: {REFERENCE}\n  engine: stanli\n  chains: 2\n  warmup: 300\n  draws: 300\nmodels:\n{models}"
    )
    out = tmp_path / "out"
    silent = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    batch = start_stanmer_cli("batch", tmp_path / "batch.yaml", "--jobs", 1, "--out", out, **silent)
    try:
        deadline = time.monotonic() + 90
        while not list(out.glob("*/meta.json")) and batch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # the first model logs its completion just after meta.json; the next needs longer
    finally:
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()
    finished_before = {path.parent.name for path in out.glob("*/meta.json")}
    assert 1 <= len(finished_before) < len(names), "the batch should be killed part way"
    saved_at = {}
    for name in finished_before:  # what was written before the kill is whole
        assert_complete_fit_folder(out / name)
        saved_at[name] = (out / name / "meta.json").stat().st_mtime_ns

    rerun = stanmer_cli("batch", tmp_path / "batch.yaml", "--jobs", 2, "--out", out)

    assert rerun.returncode == 0, rerun.stderr
    report = pd.read_csv(out / "report.csv").set_index("name")
    for name in names:
        assert report.loc[name, "status"] == ("skipped" if name in finished_before else "ok")
        assert_complete_fit_folder(out / name)
        assert (out / name / "log.txt").read_text().count("complete: all files saved") == 1, name
    for name, modified in saved_at.items():  # finished models were not fitted again
        assert (out / name / "meta.json").stat().st_mtime_ns == modified
        assert (out / name / "log.txt").read_text().count("started") == 1


# --- errors and help ----------------------------------------------------------------------


def test_missing_data_file_and_bad_manifest_fail_in_one_line(tmp_path):
    (tmp_path / "m.toml").write_text("[defaults]\nchains = = 2\n")
    missing = start_stanmer_cli(
        "fit", FORMULA, "--data", "missing.csv", "--out", tmp_path / "out", stderr=subprocess.PIPE
    )
    manifest = stanmer_cli("batch", tmp_path / "m.toml", "--out", tmp_path / "batch")
    _, missing_stderr = missing.communicate(timeout=120)

    assert missing.returncode == 2
    assert missing_stderr == (
        f"stanmer: error: data file 'missing.csv' not found; check the path (relative paths start at {ROOT})\n"
    )
    assert manifest.returncode == 2 and manifest.stderr.count("\n") == 1
    assert manifest.stderr.startswith("stanmer: error: cannot read manifest m.toml: ")
    assert "(at line 2, column 10)" in manifest.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "batch").exists()


def prior_case(prior: str) -> list:
    return ["fit", FORMULA, "--data", REFERENCE, "--prior", prior, "--out", "{tmp}/out"]


# case -> (manifest file and text, arguments, what the one-line message says)
ERROR_CASES = {
    "yaml syntax": (("m.yaml", "models:\n  - name: a\n    formula: [y ~ x\n"), ["batch", "{manifest}"], "line 4"),
    "missing key": (
        ("m.toml", '[[models]]\nname = "a"\ndata = "x.csv"\n'),
        ["batch", "{manifest}"],
        "model 1 ('a') has no 'formula'; add e.g. formula = ",
    ),
    "unknown key": (
        ("m.toml", '[[models]]\nname = "a"\nformula = "y ~ x"\ndata = "x.csv"\nchians = 2\n'),
        ["batch", "{manifest}"],
        "model 1 ('a'): unknown key 'chians'",
    ),
    "wrong type": (
        ("m.yaml", "defaults:\n  chains: two\nmodels:\n  - {name: a, formula: y ~ x, data: x.csv}\n"),
        ["batch", "{manifest}"],
        "defaults: 'chains' must be an integer, got 'two'",
    ),
    "bad prior": (None, prior_case("sd:athlete_id:normal 0 1"), "cannot read the prior"),
    "bad link": (
        None,
        ["fit", FORMULA, "--data", REFERENCE, "--family", "gaussian(logit)", "--out", "{tmp}/out"],
        "family gaussian has no link 'logit'",
    ),
    "prior target": (None, prior_case("sd:nobody:normal(0, 1)"), "no grouping factor 'nobody'"),
    "unknown column": (
        None,
        ["code", "score_final ~ height + (1 | athlete_id)", "--data", REFERENCE],
        "not in the data: height; the data has: event_id",
    ),
    "foreign folder": (
        None,
        ["fit", FORMULA, "--data", REFERENCE, "--out", "{tmp}/mine"],
        "stanmer did not write (e.g. 'notes.txt')",
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_input_errors_are_one_line_with_exit_code_2(tmp_path, capsys, case):
    manifest, arguments, message = ERROR_CASES[case]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    manifest_path = tmp_path / manifest[0] if manifest else None
    if manifest:
        manifest_path.write_text(manifest[1])

    assert main([str(a).format(tmp=tmp_path, manifest=manifest_path) for a in arguments]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("stanmer: error: ") and stderr.count("\n") == 1, stderr
    assert message in stderr
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_every_option_of_every_command_has_an_example():
    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(commands) == {"fit", "code", "predict", "batch", "summary"}
    for name, command in commands.items():
        assert "example:" in command.epilog
        for action in command._actions:
            if action.option_strings and action.dest != "help":
                assert "e.g." in action.help, f"stanmer {name} {action.option_strings[0]}"


@pytest.mark.parametrize(
    "text, cls, group, coef",
    [
        ("normal(0, 5)", "b", None, None),
        ("b[score_semi]:normal(0, 1)", "b", None, "score_semi"),
        ("b[gender[male]]:normal(0, 1)", "b", None, "gender[male]"),
        ("sd:athlete_id:student_t(3, 0, 10)", "sd", "athlete_id", None),
        ("sd:comp_id:athlete_id[Intercept]:exponential(1)", "sd", "comp_id:athlete_id", "Intercept"),
        ("cor:athlete_id:lkj(2)", "cor", "athlete_id", None),
    ],
)
def test_prior_syntax(text, cls, group, coef):
    parsed = parse_prior(text)
    assert (parsed.cls, parsed.group, parsed.coef) == (cls, group, coef)


def test_prior_syntax_errors_show_the_whole_prior():
    with pytest.raises(PriorError, match=r"b\[\]"):
        parse_prior("b[]:normal(0, 1)")
    with pytest.raises(PriorError, match=r"sd:g:normal\(0\)"):
        parse_prior("sd:g:normal(0)")


@pytest.mark.skipif(shutil.which("stanmer") is None, reason="the console script is not installed")
def test_console_script():
    result = subprocess.run(["stanmer", "batch", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--jobs" in result.stdout
