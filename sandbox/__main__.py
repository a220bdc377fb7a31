"""Entry point of `python -m sandbox` (see `sandbox.cli` for the commands and exit codes)."""

import sys

from sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
