"""``python -m sklearn_hser``: the ``hser`` command line."""

import sys

from .cli import main

sys.exit(main())
