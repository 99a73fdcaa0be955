"""The notebook display of a fit and a summary that prints whole."""

import warnings
from html import escape as html_escape

import numpy as np
import pandas as pd
import pytest

import stanmer
from stanmer.results.display import _cell


@pytest.fixture(scope="module")
def short_fit(tmp_path_factory):
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(10), 6)
    x = rng.normal(size=g.size)
    data = pd.DataFrame({"y": rng.normal(size=g.size) + 0.3 * g + x, "x": x, "g": g})
    # A module fixture runs before conftest's per-test cache folder is set.
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("STANMER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "stanmer-cache"))
        warnings.simplefilter("ignore", stanmer.SamplingWarning)  # too short on purpose: ESS is low
        return stanmer.fit("y ~ x + (1 + x | g)", data, chains=2, warmup=60, draws=60, seed=3, progress=False)


def test_html_shows_the_model_engine_time_and_every_parameter(short_fit):
    html = short_fit._repr_html_()
    for text in ("y ~ x + (1 + x | g)", "gaussian", "60 observations", "g (10 levels)", "stanli", "s sampling"):
        assert text in html
    for label in ("Population-level effects", "Intercept", "sd(Intercept)", "sd(x)", "cor(Intercept,x)", "sigma"):
        assert label in html
    assert f"{short_fit.summary().loc['b[x]', 'mean']:.3g}" in html


def test_html_highlights_the_problems_it_lists(short_fit):
    html = short_fit._repr_html_()
    problems = short_fit.diagnostics.problems(short_fit.max_treedepth)
    assert any("effective sample size" in p for p in problems)  # 2 x 60 draws cannot reach 400
    assert 'class="problem"' in html and '<ul class="problems">' in html
    assert 'title="effective sample size below 400"' in html
    for problem in problems:
        assert html_escape(problem) in html


def test_cells_are_flagged_only_past_their_limits():
    assert 'class="problem"' in _cell("rhat", 1.05) and 'class="problem"' not in _cell("rhat", 1.005)
    assert 'class="problem"' in _cell("ess_bulk", 120.0) and 'class="problem"' not in _cell("ess_tail", 900.0)
    assert _cell("rhat", float("nan")) == '<td class="problem" title="R-hat above 1.01">NA</td>'
    assert 'class="problem"' not in _cell("mean", 1e6)


def test_print_fit_stays_the_text_report(short_fit):
    text = str(short_fit)
    assert text.startswith(" Family: gaussian") and "<td" not in text and "Population-level effects:" in text


def test_summary_prints_every_row_and_column(short_fit):
    with pd.option_context("display.max_rows", 2, "display.max_columns", 2, "display.width", 40):
        table = short_fit.summary()
        printed = repr(table)
        html = table._repr_html_()
    assert "..." not in printed
    for name in table.index:
        assert name in printed and name in html
    for column in table.columns:
        assert column in printed
    assert isinstance(table, pd.DataFrame) and type(table[["mean"]]) is type(table)
