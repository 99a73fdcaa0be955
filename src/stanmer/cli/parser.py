"""The command line's arguments: every option documented, each with an example."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from ..engines import ENGINE_NAMES
from ..families import FAMILIES
from ..methods import METHOD_NAMES
from ..sampling import SAMPLER_DEFAULTS
from .manifest import MANIFEST_HELP
from .priors import PRIOR_SYNTAX

EXAMPLE_DATA = "examples/ifsc/processed_ifsc_boulder_results_2025.csv"
EXAMPLE_FORMULA = "score_final ~ score_semi + (1 | athlete_id)"


def _positive_int(text: str) -> int:
    return _bounded(text, int, lambda value: value >= 1, "a whole number of at least 1")


def _non_negative_int(text: str) -> int:
    return _bounded(text, int, lambda value: value >= 0, "a whole number of at least 0")


def _probability(text: str) -> float:
    return _bounded(text, float, lambda value: 0 < value < 1, "a number strictly between 0 and 1")


def _bounded(text: str, kind: type, accept: Callable[[Any], bool], expected: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


# flag, parser of its value, meaning, example (defaults come from SAMPLER_DEFAULTS)
SAMPLER_OPTIONS: list[tuple[str, Callable[[str], Any], str, str]] = [
    ("--chains", _positive_int, "Markov chains", "--chains 4"),
    ("--warmup", _non_negative_int, "warmup iterations per chain", "--warmup 1000"),
    ("--draws", _positive_int, "kept draws per chain", "--draws 1000"),
    ("--seed", int, "random seed (default: a fresh one)", "--seed 1"),
    ("--adapt-delta", _probability, "target acceptance rate; raise it against divergences", "--adapt-delta 0.95"),
    ("--max-treedepth", _positive_int, "NUTS maximum tree depth", "--max-treedepth 12"),
    ("--thin", _positive_int, "keep every n-th draw", "--thin 1"),
]


def build_parser() -> argparse.ArgumentParser:
    """The `stanmer` parser; `args.command` names the command to run."""
    parser = argparse.ArgumentParser(
        prog="stanmer",
        description="Fit lme4-style Bayesian multilevel models with Stan.",
        epilog=f'example:\n  stanmer fit "{EXAMPLE_FORMULA}" --data {EXAMPLE_DATA} --out fits/semi\n\n'
        "`stanmer COMMAND --help` documents each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", default=False, help=_DEBUG_HELP)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    _add_fit(commands)
    _add_code(commands)
    _add_predict(commands)
    _add_batch(commands)
    _add_summary(commands)
    return parser


_DEBUG_HELP = "on an error, print the full Python traceback after the one-line message, e.g. --debug"


def _command(commands, name: str, summary: str, example: str, notes: str = "") -> argparse.ArgumentParser:
    command = commands.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"example:\n  {example}" + (f"\n\n{notes}" if notes else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # SUPPRESS: `stanmer --debug fit ...` must not be reset by the command's own default.
    command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return command


def _add_fit(commands) -> None:
    command = _command(
        commands,
        "fit",
        "Fit one model; write model.stan, data.json, fit.nc, training.csv, summary.csv, "
        "summary.txt and meta.json to --out, and print the summary.",
        f'stanmer fit "{EXAMPLE_FORMULA}" --data {EXAMPLE_DATA} \\\n'
        '      --prior "sd:athlete_id:student_t(3, 0, 10)" --chains 4 --seed 1 --out fits/semi',
        PRIOR_SYNTAX,
    )
    _add_model_arguments(command)
    _add_sampler_arguments(command)
    command.add_argument("--out", required=True, metavar="DIR", help="folder for the fit files, e.g. --out fits/semi")
    command.add_argument(
        "--quiet", action="store_true",
        help="no sampler progress and no printed report (the files are written all the same), e.g. --quiet",
    )
    command.add_argument(
        "--verbose", action="store_true",
        help="also show the engine's own messages (compiler output, Stan's informational messages), e.g. --verbose",
    )


def _add_code(commands) -> None:
    command = _command(
        commands,
        "code",
        "Print the Stan program a fit would run, without compiling or sampling (for audit).",
        f'stanmer code "{EXAMPLE_FORMULA}" --data {EXAMPLE_DATA} --data-json semi.json > semi.stan',
        PRIOR_SYNTAX,
    )
    _add_model_arguments(command)
    command.add_argument(
        "--data-json",
        metavar="PATH",
        help="also write the Stan data as JSON (as CmdStan reads it), e.g. --data-json semi.json",
    )


def _add_predict(commands) -> None:
    command = _command(
        commands,
        "predict",
        "Predict new rows from a saved fit; write newdata's columns plus mean, sd and interval columns as CSV "
        "(prefixed with predicted_ if newdata already has such columns).",
        "stanmer predict fits/semi --newdata new_rows.csv --kind response --prob 0.9 --out predictions.csv",
    )
    command.add_argument(
        "fit_dir", metavar="DIR", help="a folder written by `stanmer fit` or a batch's model folder, e.g. fits/semi"
    )
    command.add_argument(
        "--newdata", required=True, metavar="FILE", help="rows to predict (CSV or Parquet), e.g. --newdata new_rows.csv"
    )
    command.add_argument(
        "--kind",
        choices=("mean", "linpred", "response"),
        default="mean",
        help="mean: expected response; linpred: linear predictor; response: a new observation "
        "(default: %(default)s), e.g. --kind response",
    )
    command.add_argument(
        "--new-levels",
        choices=("sample", "zero", "error"),
        default="sample",
        help="group levels the fit never saw: draw their effects from the fitted sds, set them to zero, "
        "or stop with an error (default: %(default)s), e.g. --new-levels zero",
    )
    command.add_argument(
        "--prob", type=_probability, default=0.95, help="interval probability (default: %(default)s), e.g. --prob 0.9"
    )
    command.add_argument("--seed", type=int, help="seed for sampled new levels and responses, e.g. --seed 1")
    command.add_argument(
        "--out", required=True, metavar="FILE", help="CSV to write, or - for standard output, e.g. --out pred.csv"
    )


def _add_batch(commands) -> None:
    command = _command(
        commands,
        "batch",
        "Fit every model of a TOML or YAML manifest in parallel processes, into DIR/<name>/ "
        "each, with DIR/report.csv; a rerun skips models already complete for the same spec.",
        "stanmer batch examples/batch/ifsc.toml --jobs 2 --out ifsc-fits",
        MANIFEST_HELP,
    )
    command.add_argument(
        "manifest", metavar="MANIFEST", help="a .toml, .yaml or .yml manifest, e.g. examples/batch/ifsc.toml"
    )
    command.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="models fitted at once, one process each (default: %(default)s; lowered, with a note, so that "
        "jobs x chains fits the cores), e.g. --jobs 4",
    )
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the models on Dask instead (pip install \"stanmer[dask]\"): a scheduler address, a scheduler "
        "file, or local:N for N worker processes here, e.g. --scheduler tcp://10.0.0.5:8786",
    )
    command.add_argument(
        "--out", metavar="DIR", help="output folder (default: MANIFEST's name + '-fits', beside it), e.g. --out fits"
    )
    command.add_argument(
        "--warm-start",
        action="store_true",
        help="models of one Stan program start from the first of them to finish (its adapted metric, step size "
        "and last draws) with a warmup of 300 iterations instead of the manifest's, e.g. --warm-start",
    )
    command.add_argument(
        "--quiet", action="store_true", help="no progress lines and no report table, only the final count, e.g. --quiet"
    )


def _add_summary(commands) -> None:
    command = _command(
        commands,
        "summary",
        "Print a saved fit's summary (a fit folder) or a batch's report (a batch folder) again.",
        "stanmer summary fits/semi",
    )
    command.add_argument(
        "folder", metavar="DIR", help="a folder written by `stanmer fit` or `stanmer batch`, e.g. fits/semi"
    )


def _add_model_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("formula", metavar="FORMULA", help=f'an lme4 formula, quoted, e.g. "{EXAMPLE_FORMULA}"')
    command.add_argument(
        "--data", required=True, metavar="FILE", help=f"a CSV, TSV or Parquet file, e.g. --data {EXAMPLE_DATA}"
    )
    command.add_argument(
        "--family",
        default="gaussian",
        metavar="FAMILY",
        help=f"response family, NAME or NAME(LINK): {', '.join(FAMILIES)} (default: %(default)s), "
        'e.g. --family "bernoulli(probit)"',
    )
    command.add_argument(
        "--weights", metavar="COLUMN", help="a column of likelihood weights, one per row, e.g. --weights w"
    )
    command.add_argument(
        "--levels",
        action="append",
        default=[],
        metavar="COLUMN=LOWEST,...,HIGHEST",
        help="read a text column as ordered categories (an ordinal response for --family cumulative); "
        "repeat for more columns, e.g. --levels rating=never,rarely,often,always",
    )
    command.add_argument(
        "--centered",
        choices=["auto", "all", "none"],
        default="auto",
        help="parametrisation of the group terms: auto chooses per term from the data (centred where each "
        "level's data pin its effect), all centres every term, none centres none (default: %(default)s), "
        "e.g. --centered none",
    )
    command.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar="PRIOR",
        help='a prior, repeatable (syntax below), e.g. --prior "b:normal(0, 5)" '
        '--prior "sd:athlete_id:student_t(3, 0, 10)"',
    )


def _add_sampler_arguments(command: argparse.ArgumentParser) -> None:
    for flag, kind, meaning, example in SAMPLER_OPTIONS:
        default = SAMPLER_DEFAULTS[flag[2:].replace("-", "_")]
        shown = "" if default is None else f" (default: {default})"
        command.add_argument(flag, type=kind, default=default, help=f"{meaning}{shown}, e.g. {example}")
    command.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=SAMPLER_DEFAULTS["engine"],
        help="auto: stanli (no compiler; falls back on pystan), with CmdStan for the "
        "methods stanli lacks (default: %(default)s), e.g. --engine stanli",
    )
    command.add_argument(
        "--method",
        choices=METHOD_NAMES,
        default="sample",
        help="sample (NUTS), optimize (penalised maximum likelihood), or the approximations "
        "laplace, pathfinder, variational (--draws sets their number of draws) "
        "(default: %(default)s), e.g. --method laplace",
    )
    command.add_argument(
        "--jacobian",
        action="store_true",
        default=None,
        help="with --method optimize: the posterior mode on the unconstrained scale "
        "(Jacobian included) instead of the penalised maximum likelihood, e.g. --method optimize --jacobian",
    )
    command.add_argument(
        "--algorithm",
        choices=("meanfield", "fullrank"),
        help="with --method variational (default: meanfield), e.g. --algorithm fullrank",
    )
    command.add_argument("--num-paths", type=_positive_int, help="with --method pathfinder (default: 4), e.g. --num-paths 8")
    command.add_argument(
        "--iter", type=_positive_int, help="iteration cap of optimize, laplace, pathfinder or variational, e.g. --iter 5000"
    )
