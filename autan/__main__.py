"""``python -m autan``: the CLI."""

import sys

from autan.cli.app import main

if __name__ == "__main__":  # spawned worker processes import this module under another name
    sys.exit(main())
