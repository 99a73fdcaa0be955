"""stanmer's own exception types: each names the offending thing and a fix."""


class StanmerError(Exception):
    """Base class of every error stanmer raises on purpose."""


class FormulaError(StanmerError, ValueError):
    """The formula cannot be read or does not fit the data."""


class DataError(StanmerError, ValueError):
    """The data do not fit the model (missing columns, bad values)."""


class PriorError(StanmerError, ValueError):
    """A prior names an unknown parameter or does not fit its support."""


class EngineError(StanmerError, RuntimeError):
    """An engine is missing, failed to compile, or failed to sample."""


class PredictionError(StanmerError, ValueError):
    """New data cannot be predicted with this fit (unseen levels, columns)."""


class OptionError(StanmerError, ValueError, TypeError):
    """An argument has the wrong type or value (a sampler setting, `kind=`, `prob=`)."""


class FitFolderError(StanmerError, ValueError):
    """A saved-fit folder cannot be written (taken, not a folder) or read back (damaged)."""
