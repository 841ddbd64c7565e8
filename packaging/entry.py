"""Entry point of the app bundle: the same `tokenworth` command as the console script."""

import multiprocessing
import sys

from tokenworth.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
