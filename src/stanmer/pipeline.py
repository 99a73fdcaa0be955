"""Formula + data → design → Stan program + data: every stage before an engine.

stanmer.fit, the command line and loading a saved fit all build their model
here, so all three build the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .codegen import executable_text, generate
from .errors import OptionError
from .formula import Design
from .marginal import statistics as marginal_statistics, uses_marginal
from .parametrisation import Centered, parametrise
from .ridges import Start, data as ridge_data, starting_point, term_blocks
from .standata import make_standata
from .sufficient_statistics import statistics, uses_sufficient_statistics


@dataclass(frozen=True)
class Model:
    """A design with the Stan program and the data it runs on."""

    design: Design
    program: str  # with comments naming the terms, as stan_code shows it
    standata: dict[str, Any]
    start: Start | None = None  # where NUTS may begin, from the data (the sufficient-statistics program)
    ridge_free: bool = False  # samples u_t: the effects are rebuilt from the draws (stanmer.ridges.with_effects)

    @property
    def executable(self) -> str:
        """The program as engines compile it (and cache it by)."""
        return executable_text(self.program)


def build_model(design: Design, prior_only: bool = False, centered: Centered = None, sampling: bool = True) -> Model:
    """The program and data for `design`; `prior_only` drops the likelihood.

    A Gaussian model with intercept-only group terms gets the program with
    the effects integrated out when its dense part is small enough, else the
    one through sufficient statistics when that is cheaper (choices from the
    data's levels, so the same structure may have any of the three programs).
    The integrated program samples no effects, so `centered` set explicitly
    (not None) asks for one that does. Each group term is then centred or
    non-centred as `centered` says, else as the data say for NUTS
    (`sampling`; stanmer.parametrisation); the Model's design records it."""
    if centered is None and uses_marginal(design):
        data = make_standata(design, prior_only) | marginal_statistics(design)
        return Model(design, generate(design.spec, marginal=True), data)
    design = parametrise(design, centered, prior_only, sampling)
    if uses_sufficient_statistics(design):
        blocks = term_blocks(design)
        data = make_standata(design, prior_only) | statistics(design) | ridge_data(blocks)
        start = None if prior_only else starting_point(design, blocks)
        return Model(design, generate(design.spec, sufficient_statistics=True), data, start, ridge_free=True)
    return Model(design, generate(design.spec), make_standata(design, prior_only))


def is_prior_only(sample_prior: str) -> bool:
    """True for sample_prior="only" (the prior predictive), False for "no"."""
    if sample_prior not in ("no", "only"):
        raise OptionError(f"sample_prior must be 'no' or 'only' (the prior predictive), got {sample_prior!r}")
    return sample_prior == "only"
