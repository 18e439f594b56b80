"""`python -m curation.checker FILE ...`: the link linter, like the `checklinks` script."""

from __future__ import annotations

import sys

from .cli import run

if __name__ == "__main__":
    sys.exit(run())
