"""The register import alone, as `make bench` measures it: a fresh database, migrations, the
1,000,000-line register file, a raw COPY of it beside `manage.py import_register` (control
numbers issued). Prints copy_s, import_s and their ratio. Run it under the team's bench lock:

    flock /tmp/team/bench.lock .venv/bin/python -m bench.import_only [runs]

It uses its own database (BENCH_DB, default quorum_import_only), never `make bench`'s."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("BENCH_DB", "quorum_import_only")

# BENCH_DB must be set before bench.run reads it.
from bench import run as bench


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    bench.OUT.mkdir(exist_ok=True)
    path = bench.register_file()
    for number in range(1, runs + 1):
        bench.step(f"run {number}/{runs}: fresh database {bench.DB_NAME}, migrations")
        bench.recreate_database()
        figures = bench.time_import(path)
        ratio = figures["copy_s"] / figures["import_s"]
        print(
            f"copy_s={figures['copy_s']:.2f} import_s={figures['import_s']:.2f} ratio={ratio:.3f} "
            f"peak_mb={figures['peak_mb']:.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
