"""`python -m stanmer ...`: the command line."""

import sys

from stanmer.cli import main

# Guarded: batch workers (forkserver processes) import the main module again.
if __name__ == "__main__":
    sys.exit(main())
