"""Generated Stan programs: golden files, stanc acceptance, structure only."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.codegen import executable_text

ROOT = Path(__file__).resolve().parents[1]

import regenerate  # noqa: E402  (stan/regenerate.py, the example catalogue)


@pytest.mark.parametrize("name", sorted(regenerate.EXAMPLES))
def test_golden_programs_are_current(name):
    checked_in = (ROOT / "stan" / f"{name}.stan").read_text()
    assert regenerate.program(name) == checked_in, (
        f"stan/{name}.stan is stale: run `python stan/regenerate.py` and commit the diff"
    )


def test_every_golden_file_has_an_example():
    files = {p.stem for p in (ROOT / "stan").glob("*.stan")}
    assert files == set(regenerate.EXAMPLES)


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(1)
    n = 80
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "w": rng.normal(size=n),
            "cond": rng.choice(["a", "b", "c"], size=n),
            "g": rng.integers(0, 8, size=n),
            "h": rng.choice(["p", "q", "r", "s"], size=n),
        }
    )


FORMULAS = [
    "y ~ 1",
    "y ~ x",
    "y ~ 0 + x",
    "y ~ x - 1 + (1 | g)",
    "y ~ x * cond + (1 | g)",
    "y ~ scale(x) + np.exp(w) + C(g)",
    "y ~ (1 | g)",
    "y ~ x + (1 + x | g)",
    "y ~ x + (x || g)",
    "y ~ x + (cond | g)",
    "y ~ x + (1 | g/h)",
    "y ~ x + (1 | g:h)",
    "y ~ x + (1 | g) + (1 | h)",
    "y ~ x + (1 | g) + (0 + x | g)",
    "y ~ x + w + (1 + x + w | g) + (1 + w | h)",
    "y ~ 0 + cond + (0 + x | g)",
]


def _stanc() -> Path:
    httpstan = pytest.importorskip("httpstan", reason="stanc ships inside the httpstan wheel")
    return Path(httpstan.__file__).parent / "stanc"


@pytest.mark.parametrize("formula", FORMULAS)
def test_stanc_accepts_generated_programs(formula, df, tmp_path):
    program = stanmer.stan_code(formula, df)
    path = tmp_path / "model.stan"
    path.write_text(program)
    result = subprocess.run(
        [str(_stanc()), str(path), "--o", str(tmp_path / "model.hpp")],
        capture_output=True,
        text=True,
    )
    # (--warn-pedantic is not used: it flags every prior as missing because
    # the prior numbers are data)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_program_depends_on_structure_not_on_data_names_or_prior_numbers(df):
    other = df.rename(columns={"x": "dose", "g": "clinic"}).assign(y=df.y * 100 + 7)
    first = stanmer.stan_code("y ~ x + w + (1 + x | g)", df)
    second = stanmer.stan_code(
        "y ~ dose + cond + (1 + dose | clinic)",
        other,
        priors=[stanmer.prior("normal(0, 1)", "b"), stanmer.prior("student_t(3, 0, 9)", "sd")],
    )
    assert first != second  # the comments name the columns...
    assert executable_text(first) == executable_text(second)  # ...the compiled text does not


def test_prior_distribution_is_structure(df):
    default = stanmer.stan_code("y ~ x + (1 | g)", df)
    cauchy = stanmer.stan_code("y ~ x + (1 | g)", df, priors=[stanmer.prior("cauchy(0, 2)", "sd")])
    assert executable_text(default) != executable_text(cauchy)
    assert "cauchy_lpdf(sd_1 | sd_1_prior_mu, sd_1_prior_sigma)" in cauchy


def test_executable_text_keeps_line_numbers(df):
    program = stanmer.stan_code("y ~ x + (1 | g)", df)
    stripped = executable_text(program)
    assert len(stripped.splitlines()) == len(program.splitlines())
    assert "//" not in stripped


def test_comments_name_the_formula_terms(df):
    program = stanmer.stan_code("y ~ x + (1 + x | g)", df)
    assert "// group term 1: (1 + x | g) -> Intercept, x by g" in program
    assert "// population-level effects: x" in program


def test_stan_data_matches_the_program(df):
    data = stanmer.stan_data("y ~ x + cond + (1 + x | g) + (1 | h)", df)
    assert data["N"] == 80 and data["K"] == 3 and data["X"].shape == (80, 3)
    assert data["J_1"] == df.g.nunique() and data["M_1"] == 2 and data["Z_1"].shape == (80, 2)
    assert data["J_2"] == 4 and "Z_2" not in data
    assert data["b_prior_sigma"].shape == (3,) and data["sd_1_prior_sigma"].shape == (2,)
    assert data["g_1"].min() == 1 and data["g_1"].max() == data["J_1"]
