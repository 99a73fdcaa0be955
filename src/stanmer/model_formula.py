"""bf(): a model formula with formulas for the family's auxiliary parameters
(distributional regression, as brms's bf()), e.g.

    stanmer.bf("y ~ x + (1 | g)", sigma="~ x + (1 | g)")

or as text, "y ~ x + (1 | g); sigma ~ x + (1 | g)" (what str() of a bf() gives).

models the residual sd per row: log(sigma) = its own intercept, population
effects and group effects. Which names are allowed depends on the family, so
they are checked when the model is built (formula.design).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FormulaError


@dataclass(frozen=True)
class ModelFormula:
    """The response's formula and one right-hand side per modelled auxiliary parameter."""

    formula: str  # e.g. "y ~ x + (1 | g)"
    aux: tuple[tuple[str, str], ...] = ()  # (parameter, right-hand side "~ x"), in the order given

    def __str__(self) -> str:
        return "; ".join([self.formula] + [f"{name} {rhs}" for name, rhs in self.aux])


def bf(formula: str, **aux: str) -> ModelFormula:
    """A formula with formulas for auxiliary parameters, e.g.
    `bf("y ~ x + (1 | g)", sigma="~ x + (1 | g)")`: sigma on the log scale
    (as every positive parameter), zi and hu on the logit scale. Group terms
    are independent across parts."""
    if not isinstance(formula, str):
        raise FormulaError(f"bf() takes the model formula as text, e.g. bf('y ~ x', sigma='~ x'); got {formula!r}")
    parts = []
    for name, rhs in aux.items():
        if not isinstance(rhs, str):
            raise FormulaError(f"bf(): the formula of {name} must be text such as '~ x', got {rhs!r}")
        left, tilde, right = rhs.partition("~") if "~" in rhs else ("", "~", rhs)
        if left.strip():
            raise FormulaError(
                f"bf(): the formula of {name} has a response ({left.strip()!r}) left of '~'; "
                f"its response is {name} itself, so write only the right-hand side, e.g. {name}='~ {right.strip() or 'x'}'"
            )
        if not right.strip():
            raise FormulaError(f"bf(): the formula of {name} is empty; write its right-hand side, e.g. {name}='~ x'")
        parts.append((name, f"~ {' '.join(right.split())}"))
    return ModelFormula(formula, tuple(parts))


def as_model_formula(formula: str | ModelFormula) -> ModelFormula:
    """A bf() as it is, or formula text; text may hold the auxiliary formulas
    after semicolons, as str(bf(...)) writes them: "y ~ x; sigma ~ x + (1 | g)"
    (so the command line and manifests take them too)."""
    if isinstance(formula, ModelFormula) or not isinstance(formula, str) or ";" not in formula:
        return formula if isinstance(formula, ModelFormula) else ModelFormula(formula)
    response, *parts = (part.strip() for part in formula.split(";"))
    aux = {}
    for part in parts:
        name, tilde, rhs = part.partition("~")
        if not tilde or not name.strip().isidentifier():
            raise FormulaError(
                f"cannot read {part!r} in {formula!r}: after ';' each formula names an auxiliary "
                "parameter left of '~', e.g. 'y ~ x; sigma ~ x'"
            )
        aux[name.strip()] = f"~{rhs}"
    return bf(response, **aux)
