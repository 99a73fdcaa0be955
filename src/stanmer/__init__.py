"""stanmer: Bayesian multilevel models from lme4 formulas, run by Stan."""

from .api import default_priors, design, fit, stan_code, stan_data
from .compare import compare
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
from .results import Fit, SamplingWarning
from .results.persist import load_fit as load
from .version import __version__

__all__ = [
    "DataError",
    "EngineError",
    "Family",
    "Fit",
    "FitFolderError",
    "FormulaError",
    "OptionError",
    "PredictionError",
    "Prior",
    "PriorError",
    "SamplingWarning",
    "StanmerError",
    "__version__",
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
