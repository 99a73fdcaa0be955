"""Priors: a small language users write without knowing Stan, and the
weakly informative defaults stanmer picks from the data.

A prior's *distribution* shapes the Stan program; its *numbers* travel as
data, so changing `normal(0, 5)` to `normal(0, 2)` reuses the compiled program.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .errors import PriorError
from .families import Family, aux_parameters
from .families.base import spread

if TYPE_CHECKING:
    import pandas as pd

# distribution -> (its parameter names, the supports it may be placed on)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "normal": (("mu", "sigma"), frozenset({"real", "positive"})),
    "student_t": (("nu", "mu", "sigma"), frozenset({"real", "positive"})),
    "cauchy": (("mu", "sigma"), frozenset({"real", "positive"})),
    "logistic": (("mu", "sigma"), frozenset({"real"})),
    "double_exponential": (("mu", "sigma"), frozenset({"real"})),
    "exponential": (("lambda",), frozenset({"positive"})),
    "gamma": (("alpha", "beta"), frozenset({"positive"})),
    "inv_gamma": (("alpha", "beta"), frozenset({"positive"})),
    "lognormal": (("mu", "sigma"), frozenset({"positive"})),
    "beta": (("alpha", "beta"), frozenset({"unit"})),
    "lkj": (("eta",), frozenset({"correlation"})),
}

# parameter names that must be positive, by distribution
_POSITIVE_ARGS = {"sigma", "nu", "lambda", "alpha", "beta", "eta"}

# prior class -> the support of the parameters in it
CLASS_SUPPORT = {
    "Intercept": "real",
    "b": "real",
    "sd": "positive",
    "cor": "correlation",
    **{name: aux.support for name, aux in aux_parameters().items()},
}


@dataclass(frozen=True)
class Prior:
    """One prior statement: `distribution(args)` on a class of parameters.

    `coef` narrows it to one coefficient; `group` to one grouping factor;
    `dpar` names the auxiliary parameter's formula whose Intercept, b, sd or
    cor it is on (None: the response's own formula), as in brms.
    """

    distribution: str
    args: tuple[float, ...]
    cls: str = "b"
    coef: str | None = None
    group: str | None = None
    source: str = "user"
    dpar: str | None = None

    def __str__(self) -> str:
        return f"{self.distribution}({', '.join(_fmt(a) for a in self.args)})"


def _fmt(value: float) -> str:
    return f"{value:.4g}"


_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$")


def prior(
    text: str, cls: str = "b", *, coef: str | None = None, group: str | None = None, dpar: str | None = None
) -> Prior:
    """Parse a prior written as Stan writes a distribution, e.g.
    `prior("normal(0, 5)", "b", coef="x")`, `prior("lkj(2)", "cor")`, or on
    an auxiliary formula's effects `prior("normal(0, 1)", "b", dpar="sigma")`."""
    match = _CALL.match(str(text))
    if not match:
        raise PriorError(
            f"cannot read the prior {text!r}; write a distribution call such as 'normal(0, 2.5)'"
        )
    name, arg_text = match.group(1), match.group(2)
    if name not in DISTRIBUTIONS:
        raise PriorError(
            f"unknown distribution {name!r} in prior {text!r}; "
            f"known: {', '.join(sorted(DISTRIBUTIONS))}"
        )
    try:
        args = tuple(float(a) for a in arg_text.split(",")) if arg_text.strip() else ()
    except ValueError:
        raise PriorError(f"prior {text!r}: every argument must be a number") from None
    params, supports = DISTRIBUTIONS[name]
    if len(args) != len(params):
        raise PriorError(
            f"prior {text!r}: {name} takes {len(params)} argument(s) "
            f"({', '.join(params)}), got {len(args)}"
        )
    _check_args(str(text), name, args)
    if cls not in CLASS_SUPPORT:
        raise PriorError(
            f"unknown prior class {cls!r}; classes are: {', '.join(CLASS_SUPPORT)}"
        )
    if CLASS_SUPPORT[cls] not in supports:
        raise PriorError(
            f"prior {text!r} does not fit class {cls!r} ({CLASS_SUPPORT[cls]} parameters); "
            f"use one of: {', '.join(d for d, (_, s) in DISTRIBUTIONS.items() if CLASS_SUPPORT[cls] in s)}"
        )
    if dpar is not None and cls not in PART_CLASSES:
        raise PriorError(
            f"prior {text!r} on class {cls!r} with dpar={dpar!r}: dpar selects the effects of an auxiliary "
            f"formula, classes {', '.join(PART_CLASSES)}; drop dpar for the parameter {cls!r} itself"
        )
    return Prior(name, args, cls, coef, group, dpar=dpar)


# the classes of a formula's own effects, which every formula (part) has
PART_CLASSES = ("Intercept", "b", "sd", "cor")


def _check_args(text: str, distribution: str, args: tuple[float, ...]) -> None:
    for pname, value in zip(DISTRIBUTIONS[distribution][0], args):
        if not math.isfinite(value):
            raise PriorError(f"prior {text!r}: {pname} must be a finite number, got {value:g}")
        if pname in _POSITIVE_ARGS and not value > 0:
            raise PriorError(f"prior {text!r}: {pname} must be positive, got {value:g}")


def distribution_params(distribution: str) -> tuple[str, ...]:
    return DISTRIBUTIONS[distribution][0]


@dataclass(frozen=True)
class PriorSlot:
    """A place a prior can go: one class, optionally one coefficient/group."""

    cls: str
    coef: str | None = None
    group: str | None = None


def default_priors(
    fam: Family,
    y: np.ndarray,
    population: Sequence[str],
    X: np.ndarray,
    has_intercept: bool,
    group_terms: Sequence[tuple[str, Sequence[str], np.ndarray, bool]],
    n_thresholds: int = 0,
) -> list[Prior]:
    """Weakly informative defaults, scaled to the data (rstanarm's autoscale).

    With s the response's scale on the link scale and m its centre there
    (FamilyDefinition.link_scale):
    - Intercept (at the predictors' means): student_t(3, m, 2.5 s); ordinal
      families have `n_thresholds` thresholds in its place (coef "1", "2", ...),
      each student_t(3, 0, 2.5) as in brms
    - b for column x: normal(0, 2.5 s / sd(x))
    - sd of a group coefficient on column z: half student_t(3, 0, s / sd(z))
      (sd(z) taken as 1 for the intercept)
    - cor: lkj(1), uniform over correlation matrices
    - family parameters: each family's own defaults (families/)
    `y` is the response (for binomial the proportion of successes);
    `group_terms` holds (factor, coefficient names, Z matrix, correlated).
    """
    centre, scale = fam.definition.link_scale(fam.link, y)
    priors: list[Prior] = []
    if has_intercept and fam.definition.ordinal:
        priors += [Prior("student_t", (3.0, 0.0, 2.5), "Intercept", str(k), source="default") for k in range(1, n_thresholds + 1)]
    elif has_intercept:
        priors.append(Prior("student_t", (3.0, centre, 2.5 * scale), "Intercept", source="default"))
    priors += _effect_priors(scale, population, X, group_terms)
    for aux in fam.aux_definitions:
        distribution, args = aux.default_prior(fam.definition, y)
        priors.append(Prior(distribution, args, aux.name, source="default"))
    return priors


def _effect_priors(
    scale: float, population: Sequence[str], X: np.ndarray, group_terms, dpar: str | None = None
) -> list[Prior]:
    """b and sd (and cor) defaults of one formula whose link scale has unit `scale`."""
    priors = [
        Prior("normal", (0.0, 2.5 * scale / spread(X[:, k])), "b", name, source="default", dpar=dpar)
        for k, name in enumerate(population)
    ]
    for factor, coefs, Z, correlated in group_terms:
        for m, name in enumerate(coefs):
            col_scale = 1.0 if name == "Intercept" else spread(Z[:, m])
            priors.append(Prior("student_t", (3.0, 0.0, scale / col_scale), "sd", name, factor, "default", dpar))
        if correlated:
            priors.append(Prior("lkj", (1.0,), "cor", None, factor, "default", dpar))
    return priors


def aux_part_priors(
    fam: Family,
    name: str,
    y: np.ndarray,
    population: Sequence[str],
    X: np.ndarray,
    has_intercept: bool,
    group_terms: Sequence[tuple[str, Sequence[str], np.ndarray, bool]],
) -> list[Prior]:
    """Defaults for the formula of auxiliary parameter `name` (bf(..., sigma="~ x")),
    on its link scale (log or logit), whose unit is the scale:
    - Intercept: student_t(3, c, 2.5), c = log of the response's sd for sigma, else 0
      (brms: student_t(3, 0, 2.5))
    - b for column x: normal(0, 2.5 / sd(x)) (brms: flat)
    - sd of a group coefficient on column z: half student_t(3, 0, 1 / sd(z))
    - cor: lkj(1)
    each with dpar=name."""
    aux = next(a for a in fam.definition.aux if a.name == name)
    priors = []
    if has_intercept:
        centre = aux.centre(fam.definition, y)
        priors.append(Prior("student_t", (3.0, centre, 2.5), "Intercept", source="default", dpar=name))
    return priors + _effect_priors(1.0, population, X, group_terms, dpar=name)


def apply_user_priors(defaults: list[Prior], user: Iterable[Prior] | None) -> list[Prior]:
    """Replace defaults by the user's priors, most specific wins.

    A class-wide prior (`coef=None`) covers every coefficient of that class
    (within `group` if given); a coefficient prior then overrides it.
    """
    user = list(_as_priors(user))
    _check_targets(defaults, user)
    ordered = sorted(user, key=lambda p: (p.group is not None) + (p.coef is not None))
    result = []
    for default in defaults:
        chosen = default
        for candidate in ordered:
            if _covers(candidate, default):
                chosen = replace(
                    candidate, cls=default.cls, coef=default.coef, group=default.group, source="user", dpar=default.dpar
                )
        result.append(chosen)
    return result


def _as_priors(user: Iterable[Prior] | Prior | None) -> Iterable[Prior]:
    if user is None:
        return []
    if isinstance(user, Prior):
        return [user]
    if isinstance(user, dict):
        return [prior(text, cls) for cls, text in user.items()]
    items = list(user)
    for item in items:
        if not isinstance(item, Prior):
            raise PriorError(
                f"priors must be made with stanmer.prior(...), got {item!r}; "
                "e.g. priors=[stanmer.prior('normal(0, 1)', 'b')]"
            )
        # A Prior built directly skips prior()'s checks: parse its text again.
        text = f"{item.distribution}({', '.join(map(repr, item.args))})"
        prior(text, item.cls, coef=item.coef, group=item.group, dpar=item.dpar)
    return items


def _covers(user: Prior, default: Prior) -> bool:
    return (
        user.cls == default.cls
        and user.dpar == default.dpar
        and (user.coef is None or user.coef == default.coef)
        and (user.group is None or user.group == default.group)
    )


def _check_targets(defaults: list[Prior], user: list[Prior]) -> None:
    for p in user:
        if p.dpar is not None and not any(d.dpar == p.dpar for d in defaults):
            parts = sorted({d.dpar for d in defaults if d.dpar})
            raise PriorError(
                f"prior with dpar={p.dpar!r}: the model has no formula for {p.dpar!r}; "
                f"formulas of auxiliary parameters: {', '.join(parts) or 'none'} (give one with stanmer.bf)"
            )
        same_class = [d for d in defaults if d.cls == p.cls and d.dpar == p.dpar]
        if not same_class:
            present = sorted({d.cls for d in defaults})
            raise PriorError(
                f"this model has no parameters of class {p.cls!r}; its classes are: {', '.join(present)}"
            )
        if p.group is not None and not any(d.group == p.group for d in same_class):
            groups = sorted({d.group for d in same_class if d.group})
            raise PriorError(
                f"prior on class {p.cls!r}: no grouping factor {p.group!r}; "
                f"factors: {', '.join(groups) or 'none'}"
            )
        if p.coef is not None and not any(_covers(p, d) for d in same_class):
            coefs = sorted({d.coef for d in same_class if d.coef and (p.group is None or d.group == p.group)})
            raise PriorError(
                f"prior on class {p.cls!r}: no coefficient {p.coef!r}; coefficients: {', '.join(coefs) or 'none'}"
            )


def prior_table(priors: Sequence[Prior]) -> pd.DataFrame:
    """The priors as brms's get_prior shows them: class, coef, group, prior,
    source, and a dpar column where auxiliary parameters have formulas (bf())."""
    import pandas as pd  # only tables need pandas; `import stanmer` stays light

    parts = any(p.dpar for p in priors)
    return pd.DataFrame(
        [
            {
                "class": p.cls, "coef": p.coef or "", "group": p.group or "",
                **({"dpar": p.dpar or ""} if parts else {}), "prior": str(p), "source": p.source,
            }
            for p in priors
        ]
    )
