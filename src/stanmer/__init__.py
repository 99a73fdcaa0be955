"""stanmer: Bayesian multilevel models from lme4 formulas, run by Stan."""

__version__ = "0.1.0"

from .api import default_priors, design, fit, stan_code, stan_data  # noqa: E402
from .compare import compare  # noqa: E402
from .errors import (  # noqa: E402
    DataError,
    EngineError,
    FormulaError,
    PredictionError,
    PriorError,
    StanmerError,
)
from .methods import MethodError, MethodOptionError  # noqa: E402
from .families import Family, family  # noqa: E402
from .priors import Prior, prior  # noqa: E402
from .results import ApproximationWarning, Fit, SamplingWarning  # noqa: E402
from .results.persist import load_fit as load  # noqa: E402

__all__ = [
    "ApproximationWarning",
    "DataError",
    "EngineError",
    "Family",
    "Fit",
    "FormulaError",
    "MethodError",
    "MethodOptionError",
    "PredictionError",
    "Prior",
    "PriorError",
    "SamplingWarning",
    "StanmerError",
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
