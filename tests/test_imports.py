"""`import stanmer` and `stanmer --help` stay fast: the heavy libraries
load only when a model is built, fitted or plotted.

Each check runs in a fresh interpreter, since this test process has long
since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import stanmer

HEAVY = ("arviz", "matplotlib", "scipy", "xarray", "formulae", "pandas", "cmdstanpy", "stan")


def loaded_after(code: str) -> list[str]:
    """The heavy top-level packages a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    return [name for name in HEAVY if name in modules]


def test_import_stanmer_loads_no_heavy_library():
    assert loaded_after("import stanmer") == []


def test_cli_help_loads_no_heavy_library():
    code = "from stanmer.cli.parser import build_parser\nbuild_parser().format_help()\nimport stanmer.cli.main"
    assert loaded_after(code) == []


def test_the_first_use_of_a_lazy_name_loads_it():
    assert "arviz" in loaded_after("import stanmer\nstanmer.Fit")


@pytest.mark.parametrize("name", ["fit", "design", "stan_code", "stan_data", "default_priors", "compare", "Fit", "SamplingWarning", "load"])
def test_every_public_name_resolves(name):
    assert name in stanmer.__all__ and getattr(stanmer, name) is not None
    assert name in dir(stanmer)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        stanmer.fitt


def test_a_program_alone_loads_no_results_library():
    code = (
        "import pandas as pd, stanmer\n"
        "rows = pd.DataFrame({'y': [1.0, 2.0, 3.0, 4.0], 'x': [1.0, 2.0, 3.0, 5.0], 'g': list('aabb')})\n"
        "stanmer.stan_code('y ~ x + (1 | g)', rows)"
    )
    assert [name for name in loaded_after(code) if name in ("arviz", "matplotlib", "xarray")] == []
