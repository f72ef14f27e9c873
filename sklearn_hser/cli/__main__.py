"""``python -m sklearn_hser.cli``: the ``hser`` command line."""

import sys

from . import main

sys.exit(main())
