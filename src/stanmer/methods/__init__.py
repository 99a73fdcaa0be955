"""Inference methods besides NUTS: optimize, laplace, pathfinder, variational."""

from .density import LogDensity, MethodError
from .options import APPROXIMATE, METHOD_NAMES, MethodOptionError, MethodOptions, method_options

__all__ = [
    "APPROXIMATE",
    "METHOD_NAMES",
    "LogDensity",
    "MethodError",
    "MethodOptionError",
    "MethodOptions",
    "method_options",
]
