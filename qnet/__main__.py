"""``python -m qnet``: the ``qnet`` command line."""

import sys

from qnet.cli.app import main

sys.exit(main())
