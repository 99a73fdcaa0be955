import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "ifsc"))
sys.path.insert(0, str(ROOT / "stan"))


def example_module(example: str, name: str):
    """`examples/<example>/<name>.py` as a module of its own: several examples
    have a make_data.py, and a plain import would give every test the first one."""
    path = ROOT / "examples" / example / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{example}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Compiled-program caches live in one folder per test session, so the
    suite starts cold on every machine yet shares builds between tests."""
    monkeypatch.setenv("STANMER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "stanmer-cache"))


def simulate_groups(rng, n_groups, per_group, slopes_sd, cor, sigma, beta):
    """Simulated data for y ~ x + (1 + x | g) with known parameters."""
    L = np.linalg.cholesky(np.array([[1.0, cor], [cor, 1.0]]))
    effects = (rng.normal(size=(n_groups, 2)) @ L.T) * np.asarray(slopes_sd)
    g = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(size=g.size)
    mu = beta[0] + effects[g, 0] + (beta[1] + effects[g, 1]) * x
    return pd.DataFrame({"y": mu + rng.normal(scale=sigma, size=g.size), "x": x, "g": g}), effects


@pytest.fixture(scope="session")
def ifsc_wide():
    import ifsc_data

    return ifsc_data.load_wide()
