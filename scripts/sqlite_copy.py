"""sqlite_copy.py SOURCE TARGET: SQLite's online backup API, consistent even while the source is
being written to. `make backup` copies the database out with it and `make restore` copies back."""

import sqlite3
import sys

source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
