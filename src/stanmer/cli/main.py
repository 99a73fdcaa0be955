"""`stanmer` on the command line: parse arguments, call the API, write files.

Exit codes: 0 success; 1 a model failed to sample (or some models of a
batch failed, or stanmer itself failed); 2 unusable input (files, formula,
priors, manifest, options); 130 interrupted. Errors are one line on stderr;
`--debug` adds the traceback.
"""

from __future__ import annotations

import sys
import traceback
import warnings

from ..errors import EngineError, StanmerError
from .parser import build_parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported after parsing: `--help` and argument errors need only the parser, not pandas or ArviZ.
    from .commands import COMMANDS

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return COMMANDS[args.command](args)
    except EngineError as error:  # the model ran but could not be sampled
        return _fail(error, 1, args.debug)
    except StanmerError as error:
        return _fail(error, 2, args.debug)
    except KeyboardInterrupt:
        print("stanmer: interrupted; run the same command again to resume a batch", file=sys.stderr)
        return 130
    except Exception as error:  # a bug in stanmer or below it: still one line, unless --debug
        print(
            f"stanmer: internal error: {type(error).__name__}: {error}; rerun with --debug for the "
            "traceback and report it",
            file=sys.stderr,
        )
        if args.debug:
            traceback.print_exc()
        return 1


def _fail(error: Exception, code: int, debug: bool) -> int:
    print(f"stanmer: error: {error}", file=sys.stderr)
    if debug:
        traceback.print_exc()
    return code


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # One line per warning: where in stanmer's source it arose means nothing to a CLI user.
    print(f"stanmer: {category.__name__}: {message}", file=sys.stderr)
