"""The `stanmer` command line (fit, code, predict, batch, summary)."""

from .main import main

__all__ = ["main"]
