"""Stage 1: formula text + DataFrame → ModelSpec and design matrices."""

from .bars import BarTerm, split_formula
from .design import Design, GroupData, build_design, factor_values

__all__ = ["BarTerm", "Design", "GroupData", "build_design", "factor_values", "split_formula"]
