"""The formula front end: lme4 syntax read into a ModelSpec."""

import numpy as np
import pandas as pd
import pytest

from stanmer import DataError, FormulaError
from stanmer.formula import build_design, split_formula


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "cond": rng.choice(["ctl", "lo", "hi"], size=n),
            "g": rng.integers(1, 7, size=n),
            "school": rng.choice(["s1", "s2", "s3"], size=n),
            "klass": rng.choice(["a", "b"], size=n),
        }
    )


def test_split_keeps_population_and_bars_apart():
    split = split_formula("y ~ x + (1 + x | g) + z + (1 | h)")
    assert split.response == "y"
    assert split.population == "x + z"
    assert [(b.expr, b.factor, b.correlated) for b in split.bars] == [("1 + x", "g", True), ("1", "h", True)]


def test_double_bar_and_nesting_expand():
    split = split_formula("y ~ (x || g) + (1 | a/b/c)")
    assert [(b.factor, b.correlated) for b in split.bars] == [
        ("g", False),
        ("a", True),
        ("a:b", True),
        ("a:b:c", True),
    ]


def test_only_bars_gives_intercept():
    assert split_formula("y ~ (1 | g)").population == "1"


@pytest.mark.parametrize(
    "formula, message",
    [
        ("y x", "'~'"),
        ("~ x", "no response"),
        ("y ~ (1 | g", "unbalanced"),
        ("y ~ ( | g)", "nothing left of the bar"),
        ("y ~ (1 | )", "no grouping factor"),
        ("y ~ (1 | g + h)", "not a column name"),
    ],
)
def test_bad_formulas_say_what_is_wrong(formula, message):
    with pytest.raises(FormulaError, match=message):
        split_formula(formula)


def test_population_columns_and_intercept(df):
    design = build_design("y ~ x * cond", df)
    assert design.spec.has_intercept
    assert design.spec.population == ("x", "cond[hi]", "cond[lo]", "x:cond[hi]", "x:cond[lo]")
    assert design.X.shape == (60, 5)


@pytest.mark.parametrize("formula", ["y ~ 0 + x", "y ~ x - 1"])
def test_no_intercept(df, formula):
    spec = build_design(formula, df).spec
    assert not spec.has_intercept and spec.population == ("x",)


def test_transformations_are_formulae_s(df):
    df = df.assign(pos=np.exp(df.x))
    spec = build_design("y ~ scale(z) + np.log(pos) + C(g)", df).spec
    assert spec.population[:2] == ("scale(z)", "np.log(pos)")
    assert spec.population[2].startswith("C(g)[")


def test_correlated_slopes_form_one_term(df):
    spec = build_design("y ~ x + (1 + x | g)", df).spec
    (term,) = spec.group_terms
    assert term.coefficients == ("Intercept", "x") and term.kind.name == "correlated"
    assert term.levels == tuple(str(v) for v in sorted(df.g.unique()))


def test_uncorrelated_slopes_split_per_coefficient(df):
    spec = build_design("y ~ x + (x || g)", df).spec
    assert [(t.coefficients, t.kind.name) for t in spec.group_terms] == [(("Intercept",), "intercept"), (("x",), "single")]


def test_categorical_slopes_keep_level_names(df):
    (term,) = build_design("y ~ (cond | g)", df).spec.group_terms
    assert term.coefficients == ("Intercept", "cond[hi]", "cond[lo]")


def test_nested_and_interaction_factors(df):
    design = build_design("y ~ (1 | school/klass)", df)
    nested = design.spec.group_terms[1]
    assert nested.factor == "school:klass"
    assert "s1:a" in nested.levels
    index = design.groups[1].index
    first = df.school.iloc[0] + ":" + df.klass.iloc[0]
    assert nested.levels[index[0] - 1] == first


def test_several_terms_on_one_factor(df):
    spec = build_design("y ~ (1 | g) + (0 + x | g)", df).spec
    assert [(i, t.coefficients) for i, t in spec.terms_of("g")] == [(1, ("Intercept",)), (2, ("x",))]


def test_duplicate_coefficient_on_one_factor_is_an_error(df):
    with pytest.raises(FormulaError, match="twice"):
        build_design("y ~ (1 | g) + (1 + x | g)", df)


def test_numeric_group_column_is_a_factor_in_numeric_order(df):
    df = df.assign(g=df.g * 10)
    (term,) = build_design("y ~ (1 | g)", df).spec.group_terms
    assert term.levels == tuple(str(v) for v in sorted(df.g.unique()))


def test_missing_column_lists_the_columns(df):
    with pytest.raises(FormulaError, match="not in the data: nope"):
        build_design("y ~ nope + (1 | g)", df)
    with pytest.raises(FormulaError, match="not in the data: h"):
        build_design("y ~ x + (1 | h)", df)


def test_rows_with_missing_values_are_dropped_with_a_warning(df):
    df.loc[[1, 2], "x"] = np.nan
    with pytest.warns(UserWarning, match="2 of 60 rows"):
        design = build_design("y ~ x + (1 | g)", df)
    assert design.spec.n_obs == 58 and len(design.groups[0].index) == 58


def test_non_numeric_response_is_refused(df):
    with pytest.raises(FormulaError, match="one numeric column"):
        build_design("cond ~ x", df)


def test_infinite_response_is_refused(df):
    df.loc[0, "y"] = np.inf
    with pytest.raises(DataError, match="finite numbers.*row 0"):
        build_design("y ~ x", df)
