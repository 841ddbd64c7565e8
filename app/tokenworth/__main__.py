"""`python -m tokenworth` runs the same entry point as the `tokenworth` command."""

import sys

from tokenworth.cli import main

sys.exit(main())
