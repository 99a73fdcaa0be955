"""stanmer: Bayesian multilevel models from lme4 formulas, run by Stan.

`import stanmer` loads only what naming a model needs (errors, families,
priors); the pipeline and results, with formulae, ArviZ, SciPy and
matplotlib behind them, load when first used, so scripts and the CLI start fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import (
    DataError,
    EngineError,
    FitFolderError,
    FormulaError,
    OptionError,
    PredictionError,
    PriorError,
    StanmerError,
)
from .families import Family, family
from .priors import Prior, prior
from .methods import MethodError, MethodOptionError
from .model_formula import ModelFormula, bf
from .version import __version__

# name -> (module, attribute) of what loads on first use
_LAZY = {
    "default_priors": (".api", "default_priors"),
    "design": (".api", "design"),
    "fit": (".api", "fit"),
    "stan_code": (".api", "stan_code"),
    "stan_data": (".api", "stan_data"),
    "compare": (".compare", "compare"),
    "Fit": (".results", "Fit"),
    "SamplingWarning": (".results", "SamplingWarning"),
    "ApproximationWarning": (".results", "ApproximationWarning"),
    "load": (".results.persist", "load_fit"),
}

if TYPE_CHECKING:
    from .api import default_priors, design, fit, stan_code, stan_data
    from .compare import compare
    from .results import ApproximationWarning, Fit, SamplingWarning
    from .results.persist import load_fit as load


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'stanmer' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(import_module(module, __name__), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ApproximationWarning",
    "DataError",
    "EngineError",
    "Family",
    "Fit",
    "FitFolderError",
    "FormulaError",
    "MethodError",
    "MethodOptionError",
    "ModelFormula",
    "OptionError",
    "PredictionError",
    "Prior",
    "PriorError",
    "SamplingWarning",
    "StanmerError",
    "__version__",
    "bf",
    "compare",
    "default_priors",
    "design",
    "family",
    "fit",
    "load",
    "prior",
    "stan_code",
    "stan_data",
]
