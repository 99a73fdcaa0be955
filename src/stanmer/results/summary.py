"""Posterior summaries: the table behind `Fit.summary()` and `print(fit)`."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd

from ..errors import OptionError
from ..spec import ModelSpec
from .idata import coef_dim


class SummaryTable(pd.DataFrame):
    """A DataFrame that prints every row and column: a summary is read
    whole, and pandas would otherwise elide the middle of a long one."""

    @property
    def _constructor(self):
        return SummaryTable

    def __repr__(self) -> str:
        with _everything_shown():
            return super().__repr__()

    def _repr_html_(self) -> str | None:
        with _everything_shown():
            return super()._repr_html_()


def _everything_shown():
    return pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", None)


def summary_rows(spec: ModelSpec, idata: az.InferenceData) -> list[tuple[str, str, str, np.ndarray]]:
    """(section, label, parameter name in idata, draws (chain, draw)) per row."""
    post = idata.posterior
    rows = []
    for coef in post["coef"].values:
        rows.append(("Population-level effects", str(coef), f"b[{coef}]", post["b"].sel(coef=coef).values))
    for factor in spec.factors:
        section = f"Group-level effects: ~{factor} ({len(spec.terms_of(factor)[0][1].levels)} levels)"
        cdim = coef_dim(factor)
        coefs = [str(c) for c in post[cdim].values]
        for coef in coefs:
            rows.append((section, f"sd({coef})", f"sd_{factor}[{coef}]", post[f"sd_{factor}"].sel({cdim: coef}).values))
        for _, term in spec.terms_of(factor):
            for first, second in term.kind.correlation_pairs(term):
                values = post[f"cor_{factor}"].sel({cdim: first, f"{cdim}2": second}).values
                rows.append((section, f"cor({first},{second})", f"cor_{factor}[{first},{second}]", values))
    for name in spec.family.aux:
        rows.append(("Family-specific parameters", name, name, post[name].values))
    return rows


def summarize(spec: ModelSpec, idata: az.InferenceData, prob: float = 0.95) -> pd.DataFrame:
    """Mean, sd, equal-tailed interval, R-hat and ESS of every reported parameter."""
    if not 0 < prob < 1:
        raise OptionError(f"prob must lie strictly between 0 and 1, got {prob}")
    lower, upper = (1 - prob) / 2, 1 - (1 - prob) / 2
    low_name, high_name = f"q{100 * lower:g}", f"q{100 * upper:g}"
    method = idata.attrs.get("method", "sample")
    records = []
    for section, label, name, values in summary_rows(spec, idata):
        record = {"parameter": name, "section": section, "label": label, "mean": float(values.mean())}
        if method == "optimize":  # a point estimate: no spread, no convergence to check
            record.update({"sd": np.nan, low_name: np.nan, high_name: np.nan})
            record.update({"rhat": np.nan, "ess_bulk": np.nan, "ess_tail": np.nan})
        else:
            record.update(
                {
                    "sd": float(values.std(ddof=1)),
                    low_name: float(np.quantile(values, lower)),
                    high_name: float(np.quantile(values, upper)),
                }
            )
            # R-hat and ESS judge Markov chains; an approximation's draws are
            # independent by construction, so they say nothing about it.
            markov = method == "sample"
            record["rhat"] = float(az.rhat(values)) if markov else np.nan
            record["ess_bulk"] = float(az.ess(values, method="bulk")) if markov else np.nan
            record["ess_tail"] = float(az.ess(values, method="tail")) if markov else np.nan
        records.append(record)
    return SummaryTable(pd.DataFrame.from_records(records).set_index("parameter"))


def format_report(spec: ModelSpec, table: pd.DataFrame, header: list[str]) -> str:
    """brms-style text: one block per section, estimates with intervals."""
    lines = list(header)
    numbers = table.drop(columns=["section", "label"])
    numbers.index = table["label"]
    names = {"mean": "Estimate", "sd": "Est.Error", "rhat": "Rhat", "ess_bulk": "Bulk_ESS", "ess_tail": "Tail_ESS"}
    for section in dict.fromkeys(table["section"]):
        block = numbers[table["section"].to_numpy() == section].rename(columns=names)
        block.index.name = None
        lines += ["", f"{section}:", _format_block(block)]
    return "\n".join(lines)


def _format_block(block: pd.DataFrame) -> str:
    formatted = block.copy().astype(object)
    for column in block.columns:
        if column in ("Bulk_ESS", "Tail_ESS"):
            formatted[column] = [f"{v:.0f}" if np.isfinite(v) else "NA" for v in block[column]]
        elif column == "Rhat":
            formatted[column] = [f"{v:.3f}" if np.isfinite(v) else "NA" for v in block[column]]
        else:
            formatted[column] = [f"{v:.4g}" for v in block[column]]
    return formatted.to_string()
