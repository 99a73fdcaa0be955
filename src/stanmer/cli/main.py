"""`stanmer` on the command line: parse arguments, call the API, write files.

Exit codes: 0 success; 1 a model failed to sample (or some models of a
batch failed); 2 unusable input (files, formula, priors, manifest, options).
"""

from __future__ import annotations

import sys
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
        return _fail(error, 1)
    except StanmerError as error:
        return _fail(error, 2)
    except KeyboardInterrupt:
        print("stanmer: interrupted; run the same command again to resume a batch", file=sys.stderr)
        return 130


def _fail(error: Exception, code: int) -> int:
    print(f"stanmer: error: {error}", file=sys.stderr)
    return code


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # One line per warning: where in stanmer's source it arose means nothing to a CLI user.
    print(f"stanmer: {category.__name__}: {message}", file=sys.stderr)
