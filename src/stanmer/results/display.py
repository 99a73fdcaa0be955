"""A fit as HTML for notebooks (`Fit._repr_html_`): the model, the engine
and its time, the estimates by section, and the diagnostics with every
problem highlighted. `print(fit)` stays the brms-style text of summary.py."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .diagnostics import ESS_LIMIT, RHAT_LIMIT

if TYPE_CHECKING:
    from .fit import Fit

_STYLE = """<style>
.stanmer-fit {font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; max-width: 60em}
.stanmer-fit h4 {margin: 0.8em 0 0.3em 0}
.stanmer-fit table {border-collapse: collapse; margin: 0}
.stanmer-fit th, .stanmer-fit td {padding: 2px 10px; text-align: right}
.stanmer-fit th:first-child, .stanmer-fit td:first-child {text-align: left}
.stanmer-fit thead th {border-bottom: 1px solid #999}
.stanmer-fit .model td {text-align: left; padding-left: 0}
.stanmer-fit .problem {background: #fde2e1; color: #8a1c15; font-weight: bold}
.stanmer-fit .fine {color: #1e6b30}
.stanmer-fit ul.problems {margin: 0.3em 0; padding-left: 1.2em; color: #8a1c15}
</style>"""

_COLUMNS = {"mean": "Estimate", "sd": "Est.Error", "rhat": "Rhat", "ess_bulk": "Bulk ESS", "ess_tail": "Tail ESS"}


def fit_html(fit: Fit, prob: float = 0.95) -> str:
    """The whole fit as one HTML block."""
    parts = [_STYLE, '<div class="stanmer-fit">', _model_table(fit)]
    table = fit.summary(prob)
    for section in dict.fromkeys(table["section"]):
        rows = table[table["section"].to_numpy() == section]
        parts += [f"<h4>{escape(section)}</h4>", _estimates_table(rows)]
    parts += [_diagnostics(fit), f"<p>Intervals are equal-tailed {prob:.0%}.</p>", "</div>"]
    return "\n".join(parts)


def _formulas(spec) -> list[str]:
    """The response's formula, then each auxiliary parameter's (bf())."""
    return [spec.formula] + [f"{part.name} {part.formula} ({part.link} link)" for part in spec.aux_parts]


def _model_table(fit: Fit) -> str:
    spec, post, attrs = fit.spec, fit.idata.posterior, fit.idata.attrs
    groups = ", ".join(f"{escape(f)} ({len(spec.terms_of(f)[0][1].levels)} levels)" for f in spec.factors)
    rows = [
        ("Formula", "<br>".join(f"<code>{escape(text)}</code>" for text in _formulas(spec))),
        ("Family", f"{escape(spec.family.name)} (link: {escape(spec.family.link)})"),
        ("Data", f"{spec.n_obs} observations" + (f"; groups: {groups}" if groups else "")),
        ("Draws", f"{post.sizes['chain']} chains &times; {post.sizes['draw']} draws"),
        ("Engine", f"{escape(str(attrs.get('engine')))} {escape(str(attrs.get('engine_version', '')))}"),
    ]
    time = _time(fit.timings)
    if time:
        rows.append(("Time", time))
    body = "".join(f"<tr><td><b>{name}</b></td><td>{value}</td></tr>" for name, value in rows)
    return f'<table class="model">{body}</table>'


def _time(timings: dict) -> str:
    if not timings:
        return ""
    compile_note = "compiled" if timings.get("compiled") else "cached build"
    return (
        f"{timings.get('sample_seconds', 0):.1f} s sampling, "
        f"{timings.get('compile_seconds', 0):.1f} s compiling ({compile_note}), "
        f"{timings.get('total_seconds', 0):.1f} s in all"
    )


def _estimates_table(rows: pd.DataFrame) -> str:
    numbers = [c for c in rows.columns if c not in ("section", "label")]
    head = "".join(f"<th>{escape(_COLUMNS.get(c, c))}</th>" for c in numbers)
    body = []
    for _, row in rows.iterrows():
        cells = "".join(_cell(column, row[column]) for column in numbers)
        body.append(f"<tr><td>{escape(str(row['label']))}</td>{cells}</tr>")
    # Every table has a class: themes (mkdocs-material) restyle tables without one.
    return f'<table class="estimates"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _cell(column: str, value: float) -> str:
    if column == "rhat":
        flagged, text = not value <= RHAT_LIMIT, _number(value, "{:.3f}")
    elif column.startswith("ess"):
        flagged, text = not value >= ESS_LIMIT, _number(value, "{:.0f}")
    else:
        flagged, text = False, _number(value, "{:.3g}")
    title = f' title="{_limit_note(column)}"' if flagged else ""
    return f'<td class="problem"{title}>{text}</td>' if flagged else f"<td>{text}</td>"


def _limit_note(column: str) -> str:
    return f"R-hat above {RHAT_LIMIT}" if column == "rhat" else f"effective sample size below {ESS_LIMIT}"


def _number(value: float, form: str) -> str:
    return form.format(value) if np.isfinite(value) else "NA"


def _diagnostics(fit: Fit) -> str:
    found = fit.diagnostics
    checks = [
        ("Divergences", f"{found.divergences} of {found.n_draws}", found.divergences > 0),
        ("Max tree depth hits", str(found.treedepth_hits), found.treedepth_hits > 0),
        ("Largest R-hat", _number(found.max_rhat, "{:.3f}"), found.max_rhat > RHAT_LIMIT),
        (
            "Smallest ESS (bulk, tail)",
            f"{_number(found.min_ess_bulk, '{:.0f}')}, {_number(found.min_ess_tail, '{:.0f}')}",
            min(found.min_ess_bulk, found.min_ess_tail) < ESS_LIMIT,
        ),
    ]
    body = "".join(
        f'<tr><td>{name}</td><td class="{"problem" if bad else "fine"}">{value}</td></tr>'
        for name, value, bad in checks
    )
    problems = fit.diagnostics.problems(fit.max_treedepth)
    listed = (
        '<ul class="problems">' + "".join(f"<li>{escape(p)}</li>" for p in problems) + "</ul>"
        if problems
        else '<p class="fine">No divergences; every R-hat and ESS within its limit.</p>'
    )
    return f'<h4>Diagnostics</h4><table class="checks">{body}</table>{listed}'
