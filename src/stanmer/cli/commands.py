"""The CLI's commands: each reads its arguments, calls the API and writes files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from .. import api
from ..atomic import write_csv, write_json
from ..results.persist import is_complete, load_fit
from ..sampling import SAMPLER_DEFAULTS
from .batch import REPORT_FILE, run_batch
from .fitting import (
    FitRequest,
    centering_option,
    fit_request,
    method_settings,
    parse_family,
    save_request,
)
from .io import (
    InputError,
    check_output_file,
    check_output_folder,
    claim_output_folder,
    exclusive,
    file_sha256,
    folder_kind,
    read_table,
    require_file,
)
from .levels import apply_levels, parse_levels
from .manifest import load_manifest
from .priors import parse_prior


def run_fit(args: argparse.Namespace) -> int:
    request = _request(args, name=Path(args.out).name)
    out = check_output_folder(args.out, "fit")  # before the fit: fail fast, create nothing yet
    started = time.perf_counter()
    fitted = fit_request(request, progress=not args.quiet, verbose=args.verbose)
    folder = claim_output_folder(out, "fit")
    with exclusive(folder):
        save_request(fitted, request, folder, time.perf_counter() - started)
    if not args.quiet:
        print(fitted.report())
        print(f"saved to {out}/", file=sys.stderr)
    return 0


def run_code(args: argparse.Namespace) -> int:
    rows = apply_levels(read_table(args.data), tuple(parse_levels(text) for text in args.levels))
    model = (args.formula, rows, parse_family(args.family), [parse_prior(text) for text in args.prior], args.weights)
    centered = centering_option(args.centered)
    print(api.stan_code(*model, **centered), end="")
    if args.data_json:
        write_json(args.data_json, api.stan_data(*model, **centered), indent=None)
    return 0


def run_predict(args: argparse.Namespace) -> int:
    if args.out != "-":
        check_output_file(args.out)
    fitted = load_fit(args.fit_dir)
    newdata = read_table(args.newdata)
    table = fitted.predict_summary(
        newdata, prob=args.prob, kind=args.kind, new_levels=args.new_levels, seed=args.seed
    )
    if set(table.columns) & set(newdata.columns):  # keep the input's own columns intact
        table = table.add_prefix("predicted_")
    result = pd.concat([newdata, table], axis=1)
    if args.out == "-":
        result.to_csv(sys.stdout, index=False)
    else:
        write_csv(args.out, result)
    return 0


def run_batch_command(args: argparse.Namespace) -> int:
    manifest = Path(args.manifest)
    requests = load_manifest(manifest)
    out = Path(args.out) if args.out else manifest.with_name(f"{manifest.stem}-fits")
    echo = None if args.quiet else lambda line: print(line, file=sys.stderr, flush=True)
    started = time.perf_counter()
    outcomes = run_batch(requests, out, args.jobs, echo, scheduler=args.scheduler, warm_start=args.warm_start)
    if not args.quiet:
        print(format_report(out))
    counts = {status: sum(o.status == status for o in outcomes) for status in ("ok", "skipped", "failed")}
    print(
        f"{len(outcomes)} models in {time.perf_counter() - started:.1f} s: {counts['ok']} ok, "
        f"{counts['skipped']} skipped (up to date), {counts['failed']} failed; report: {out / REPORT_FILE}"
    )
    return 1 if counts["failed"] else 0


def run_summary(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if folder_kind(folder) == "batch" and (folder / REPORT_FILE).is_file():
        print(format_report(folder))
    elif is_complete(folder):
        print((folder / "summary.txt").read_text(encoding="utf-8"), end="")
    else:
        raise InputError(
            f"{str(folder)!r} holds neither a complete fit nor a batch report; "
            "give a folder written by `stanmer fit --out` or `stanmer batch`"
        )
    return 0


def format_report(folder: Path) -> str:
    report = pd.read_csv(folder / REPORT_FILE, keep_default_na=False)
    return report.to_string(index=False)


def _request(args: argparse.Namespace, name: str) -> FitRequest:
    """The fit the arguments ask for; missing files, bad families and priors fail here, before any work."""
    require_file(args.data)
    parse_family(args.family)
    for text in args.prior:
        parse_prior(text)
    options = {key: getattr(args, key) for key in SAMPLER_DEFAULTS}
    options.update(method_settings(vars(args)))
    options.update(centering_option(args.centered))
    return FitRequest(
        name=name,
        formula=args.formula,
        data=Path(args.data),
        family=args.family,
        priors=tuple(args.prior),
        weights=args.weights,
        options=options,
        levels=tuple(parse_levels(text) for text in args.levels),
        data_sha256=file_sha256(args.data),
    )


COMMANDS = {
    "fit": run_fit,
    "code": run_code,
    "predict": run_predict,
    "batch": run_batch_command,
    "summary": run_summary,
}
