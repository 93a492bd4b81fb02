"""The dependency rule of DESIGN.md (Layout): config -> proposals -> meetings -> polls -> core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"^\s*(?:from|import) (\w+)", re.MULTILINE)
INCLUDE = re.compile(r"""\{%\s*(?:include|extends)\s+["'](\w+)/""")
HIGHER = {
    "core": {"polls", "meetings", "proposals", "config"},
    "polls": {"meetings", "proposals", "config"},
    "meetings": {"proposals", "config"},
    "proposals": {"config"},
}


def _imports_of(app: str) -> list[tuple[str, str]]:
    found = []
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for module in IMPORT.findall(path.read_text()):
            if module in HIGHER[app]:
                found.append((str(path.relative_to(ROOT)), module))
    return found


@pytest.mark.parametrize("app", sorted(HIGHER))
def test_an_app_imports_no_app_above_it(app: str) -> None:
    assert _imports_of(app) == []


@pytest.mark.parametrize("app", ["polls", "meetings"])
def test_a_lower_apps_templates_include_no_higher_apps_template(app: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / app / "templates").rglob("*.html")
        if set(INCLUDE.findall(path.read_text())) & HIGHER[app]
    ]
    assert offenders == []
