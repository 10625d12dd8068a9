"""``python -m crmql`` is the ``crmql`` command."""

import sys

from .surfaces.cli import main

if __name__ == "__main__":
    sys.exit(main())
