"""``python -m s1desk``."""

import sys

from s1desk.cli import main

sys.exit(main())
