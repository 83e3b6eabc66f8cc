"""``python -m coder``: the core's commands (``session-coder`` has them all, plus the
app, the demo and exports)."""

import sys

from coder.cli import main

sys.exit(main())
