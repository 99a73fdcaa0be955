"""One progress display per fit: a single bar in a terminal, a few lines in
logs, nothing with progress=False; engine chatter held back unless verbose."""

import io
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.cli.main import main
from stanmer.engines.cmdstan import cmdstan_installed
from stanmer.progress import EngineOutput, Progress, engine_output

SMALL = dict(chains=2, warmup=150, draws=150, seed=1)


@pytest.fixture(scope="module")
def grouped():
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(6), 8)
    return pd.DataFrame({"y": rng.normal(size=g.size) + 0.5 * g, "x": rng.normal(size=g.size), "g": g})


def _fit(data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stanmer.SamplingWarning)  # short runs
        return stanmer.fit("y ~ x + (1 | g)", data, **SMALL, **options)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_fit_outside_a_terminal_prints_a_few_lines_and_no_engine_lines(grouped, capsys):
    _fit(grouped)
    out, err = capsys.readouterr()
    assert out == ""  # stanli's "Chain [1] Iteration" lines no longer reach stdout
    lines = err.splitlines()
    assert 2 <= len(lines) <= 4, err
    assert lines[0] == "stanli: sampling 2 chains x 300 iterations (150 warmup)"
    assert "warmup done" in lines[1] and "left" in lines[1]
    assert lines[-1].startswith("stanli: done in") and lines[-1].endswith("divergences")


def test_progress_false_prints_nothing(grouped, capsys):
    _fit(grouped, progress=False)
    assert capsys.readouterr() == ("", "")


def test_verbose_shows_the_engine_lines(grouped, capsys):
    _fit(grouped, verbose=True)
    err = capsys.readouterr().err
    assert "Chain [1] Iteration: 150 / 300" in err
    assert "stanli: sampling" not in err  # the engine's lines replace the display


def test_in_a_terminal_the_display_is_one_bar_updated_in_place():
    terminal = _Terminal()
    progress = Progress("stanli", chains=2, warmup=100, draws=100, enabled=True, stream=terminal)
    output = EngineOutput(progress, echo=None)
    for iteration in range(1, 201, 10):
        for chain in (1, 2):
            phase = "Warmup" if iteration <= 100 else "Sampling"
            output.write(f"Chain [{chain}] Iteration: {iteration:3d} / 200 [ 50%]  ({phase})\n")
    assert progress.phase == "sampling"
    progress.finish(divergences=3)
    text = terminal.getvalue()
    assert text.count("\n") == 1  # one line, rewritten with carriage returns
    assert text.count("\r") >= 2  # drawn at the start, redrawn at the end (tqdm throttles between)
    assert "stanli, 2 chains" in text and "400/400" in text and "400/400" in text and "3 divergences]" in text


def test_engine_output_reads_every_engine_shape_and_counts_rejections():
    progress = Progress("x", chains=4, warmup=1000, draws=1000, enabled=False)
    output = EngineOutput(progress, echo=None)
    output.write("Chain [3] Iteration:  900 / 2000 [ 45%]  (Warmup)\nIterat")  # stanli, cmdstanpy's console
    output.write("ion: 1200 / 2000 [ 60%]  (Sampling)\n")  # a lone CmdStan chain, split across writes
    assert progress.done == {3: 900, 1: 1200} and progress.sampling == {1}
    assert progress.phase == "sampling 1/4 chains"
    output.write("Sampling:  60% (4800/8000)\n")  # pystan: all chains together
    assert progress.done == {0: 4800} and progress.phase == "sampling"
    for _ in range(37):
        output.write("Informational Message: The current Metropolis proposal is about to be rejected because ...\n")
    output.write("Messages from stanc:\nWarning: The parameter z has no priors.\n")
    assert output.rejections == 37
    assert output.text() == "Messages from stanc:\nWarning: The parameter z has no priors."


def test_rejections_are_summarised_in_one_line():
    log = io.StringIO()
    progress = Progress("pystan", chains=1, warmup=10, draws=10, enabled=True, stream=log)
    progress.finish(divergences=0, rejections=37)
    assert log.getvalue().splitlines()[-1].startswith("pystan: 37 Metropolis proposals rejected")


def test_engine_output_holds_back_python_output_and_keeps_it():
    with engine_output(None) as output:
        print("Building: found in cache, done.")
        print("noise", file=sys.stderr)
    assert output.text() == "Building: found in cache, done.\nnoise"


def test_engine_output_holds_back_subprocess_output(capfd):
    with engine_output(None, descriptors=True) as output:
        subprocess.run([sys.executable, "-c", "import sys; print('compiler warning', file=sys.stderr)"], check=True)
    assert capfd.readouterr() == ("", "")
    assert output.text() == "compiler warning"


def test_cli_fit_prints_only_the_report_and_a_few_progress_lines(tmp_path, grouped, capsys):
    data = tmp_path / "data.csv"
    grouped.to_csv(data, index=False)
    arguments = ["fit", "y ~ x + (1 | g)", "--data", data, "--engine", "stanli", "--chains", "2"]
    arguments += ["--warmup", "150", "--draws", "150", "--seed", "1", "--out", tmp_path / "fit"]
    assert main(list(map(str, arguments))) == 0
    out, err = capsys.readouterr()
    assert "Iteration" not in out + err
    assert out.startswith(" Family: gaussian")
    assert len(err.splitlines()) <= 8  # progress, sampling warnings, "saved to"


def test_cmdstan_probe_reads_the_install_without_importing_cmdstanpy(tmp_path):
    install = tmp_path / "cmdstan-2.36.0"
    install.mkdir()
    (install / "makefile").write_text("")
    probe = (
        "import sys; from stanmer.engines.cmdstan import cmdstan_installed; "
        "print(cmdstan_installed(), 'cmdstanpy' in sys.modules)"
    )
    for cmdstan, expected in ((install, "True False"), (tmp_path / "nothing", "False False")):
        env = {"CMDSTAN": str(cmdstan), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
        result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
        assert result.stdout.split() == expected.split()


def test_cmdstan_probe_finds_the_default_install_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CMDSTAN", raising=False)
    monkeypatch.setattr("pathlib.Path.home", lambda: tmp_path)
    monkeypatch.delitem(sys.modules, "cmdstanpy", raising=False)
    assert not cmdstan_installed()
    (tmp_path / ".cmdstan" / "cmdstan-2.36.0").mkdir(parents=True)
    (tmp_path / ".cmdstan" / "cmdstan-2.36.0" / "makefile").write_text("")
    assert cmdstan_installed()


class _Handle:
    def __init__(self, bundle):
        self.shown = [bundle["text/plain"]]

    def update(self, bundle, raw):
        self.shown.append(bundle["text/plain"])


def test_in_a_notebook_the_display_is_one_output_replaced_in_place(monkeypatch):
    handles = []

    def display(bundle, raw, display_id):
        assert raw and display_id
        handles.append(_Handle(bundle))
        return handles[-1]

    monkeypatch.setattr("IPython.display.display", display)
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})()
    progress = Progress("stanli", chains=2, warmup=50, draws=50, enabled=True, stream=kernel_stream)
    progress.chain(1, 60, warmup=False)
    progress.finish(divergences=1, rejections=2)
    assert len(handles) == 1 and kernel_stream.getvalue() == ""  # no carriage-return text
    last = handles[0].shown[-1].splitlines()
    assert "200/200" in last[0] and "1 divergence]" in last[0]
    assert last[1].startswith("stanli: 2 Metropolis proposals rejected")
