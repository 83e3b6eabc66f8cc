"""``python -m launcher`` is the same as ``session-coder``."""

import sys

from launcher import main

sys.exit(main())
