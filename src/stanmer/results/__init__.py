"""Stage 4: draws → InferenceData, summaries, diagnostics."""

from .diagnostics import ApproximationWarning, SamplingWarning
from .fit import Fit
from .idata import to_inference_data

__all__ = ["ApproximationWarning", "Fit", "SamplingWarning", "to_inference_data"]
