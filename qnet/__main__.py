"""``python -m qnet``: the ``qnet`` command line."""

import sys

from qnet.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
