"""Random formulas over random data frames: stanmer either builds a model
whose program passes stanc (stanli's bundled one) or raises a StanmerError,
never another exception.

The frames mix awkward column names (spaces, unicode, dots) with NaN, inf,
constant and collinear columns and tiny and huge values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stanmer
from stanmer import StanmerError
from stanmer.pipeline import build_model

stanli = pytest.importorskip("stanli")

NAMES = ["x", "z", "x.1", "two words", "größe", "α", "g", "h", "y"]
FAMILIES = ["gaussian", "student", "poisson", "bernoulli", "negbinomial", "gamma", "lognormal", "beta", "binomial"]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, 1e-300, -1e-300, 1e300, -1e300, 1.0]


def quoted(name: str) -> str:
    return name if name.isidentifier() else f"`{name}`"


@st.composite
def frames(draw) -> pd.DataFrame:
    rows = draw(st.one_of(st.integers(3, 12), st.just(0)))
    columns = {}
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True)):
        kind = draw(st.sampled_from(["normal", "special", "constant", "collinear", "levels", "counts"]))
        if kind == "normal":
            values = draw(st.lists(st.floats(-1e6, 1e6), min_size=rows, max_size=rows))
        elif kind == "special":
            values = draw(st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(-5, 5)), min_size=rows, max_size=rows))
        elif kind == "constant":
            values = [draw(st.sampled_from(SPECIAL))] * rows
        elif kind == "collinear" and columns:
            base = np.asarray(next(iter(columns.values())))
            values = list(2.0 * base + 1.0) if base.dtype.kind == "f" else list(base)
        elif kind == "levels":
            values = draw(st.lists(st.sampled_from(["a", "b", "c", "ä b"]), min_size=rows, max_size=rows))
        else:
            values = draw(st.lists(st.integers(0, 5), min_size=rows, max_size=rows))
        columns[name] = values
    return pd.DataFrame(columns)


@st.composite
def formulas(draw, names: list[str]) -> str:
    name = st.sampled_from(names)
    response = quoted(draw(name))
    terms = draw(
        st.lists(
            st.one_of(
                name.map(quoted),
                st.tuples(name, name).map(lambda pair: f"{quoted(pair[0])}:{quoted(pair[1])}"),
                name.map(lambda n: f"I({quoted(n)} ** 2)"),
                st.sampled_from(["0", "1", "-1"]),
                st.tuples(st.sampled_from(["0 +", "", "1 +"]), name, name, st.sampled_from(["|", "||"])).map(
                    lambda t: f"({t[0]} {quoted(t[1])} {t[3]} {quoted(t[2])})"
                ),
                st.tuples(name, st.sampled_from(["|", "||"])).map(lambda t: f"(1 {t[1]} {quoted(t[0])})"),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return f"{response} ~ {' + '.join(terms)}"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_formula_gives_a_compiling_program_or_a_stanmer_error(data) -> None:
    frame = data.draw(frames())
    unknown = data.draw(st.sampled_from([[], [], [], ["nope"]]))  # now and then a column that is not there
    formula = data.draw(formulas(list(frame.columns) + unknown))
    family = data.draw(st.sampled_from(FAMILIES))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build_model(stanmer.design(formula, frame, family))
    except StanmerError:
        return
    stanli.stan_to_mir(model.executable)  # raises when stanc rejects the program
    for name, value in model.standata.items():
        assert np.all(np.isfinite(np.asarray(value, dtype=float))), f"{formula}: {name} is not finite"
