"""complexity.py: the structure limits `make test` holds the code to (DESIGN.md, Layout).

- No function or method in app code has a cyclomatic complexity over 15 (radon's measure; its
  `cc -n` grades are too coarse for this: D starts at 21).
- No Python file outside migrations passes 500 lines, in the apps, tests/ and bench/.

Prints every offender and exits 1 when there is one. An app directory that does not exist yet
is skipped. Run from the repository root: `python scripts/complexity.py`.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import Function

APPS = ("config", "core", "polls", "meetings", "proposals")
LINE_CHECKED = (*APPS, "tests", "bench")
MAX_COMPLEXITY = 15
MAX_LINES = 500


def python_files(top: str, *, skip: frozenset[str]) -> Iterator[Path]:
    root = Path(top)
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*.py")):
        if not skip.intersection(path.parts):
            yield path


def complex_functions(path: Path) -> Iterator[str]:
    blocks = add_inner_blocks(cc_visit(path.read_text(encoding="utf-8")))
    for block in sorted(blocks, key=lambda b: b.lineno):
        if isinstance(block, Function) and block.complexity > MAX_COMPLEXITY:
            yield f"{path}:{block.lineno} {block.fullname} has complexity {block.complexity} (max {MAX_COMPLEXITY})"


def long_file(path: Path) -> str | None:
    with path.open(encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    return f"{path} has {lines} lines (max {MAX_LINES})" if lines > MAX_LINES else None


def main() -> int:
    offenders: list[str] = []
    for app in APPS:
        for path in python_files(app, skip=frozenset({"migrations", "tests"})):
            offenders.extend(complex_functions(path))
    for top in LINE_CHECKED:
        for path in python_files(top, skip=frozenset({"migrations"})):
            if (message := long_file(path)) is not None:
                offenders.append(message)
    for message in offenders:
        print(message)
    return 1 if offenders else 0


if __name__ == "__main__":
    sys.exit(main())
