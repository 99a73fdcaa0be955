"""Print stanmer's gaps to the brms and lme4 references as a Markdown table.

    python tests/reference/table.py [--engine stanli|pystan] [--model NAME ...]

Fits every reference model (each formula spelling) with the settings the
tests use; a model stanmer cannot fit gets a row naming the error.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import external  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="stanli")
    parser.add_argument("--model", nargs="*", help="reference model names (default: all)")
    args = parser.parse_args()
    rows = []
    for name, syntax in external.all_models():
        if args.model and name not in args.model:
            continue
        try:
            fitted = external.fit(name, syntax, args.engine)
        except Exception as error:  # the table reports it; the tests fail on it
            rows.append({"dataset": external.REFERENCES[name]["dataset"], "model": name, "syntax": syntax,
                         "engine": args.engine, "max |z| vs brms": f"error: {type(error).__name__}: {error}"})
            continue
        rows.append(external.table_row(name, syntax, fitted, args.engine))
    columns = max(rows, key=len).keys()
    print(external.markdown([{c: row.get(c, "") for c in columns} for row in rows]))


if __name__ == "__main__":
    main()
