"""``python -m clauderoute._cli``: the ``clauderoute`` command."""

import sys

from . import main

sys.exit(main())
