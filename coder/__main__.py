"""``python -m coder`` is the same as ``session-coder``."""

import sys

from coder.cli import main

sys.exit(main())
