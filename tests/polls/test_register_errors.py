"""Every finding the register check can produce reads in Italian, with nothing left in English."""

from __future__ import annotations

import io

import pytest
from django.utils import translation

from meetings.register_errors import register_error_text
from meetings.register_import import register_import
from polls.exceptions import RegisterInvalid
from tests.factories import register_csv

pytestmark = pytest.mark.django_db

BAD_LINES: list[tuple[str, str, str, int | str]] = [
    ("", "Nobody", "nobody@example.com", 10),
    ("A-2", "", "", ""),
    ("A-3", "Neg", "neg@example.com", "-5"),
    ("A-4", "Big", "big@example.com", "1" * 19),
    ("A-5", "Frac", "frac@example.com", "1.5"),
    ("A-6", "Mail", "not-an-address", 10),
    ("A" * 65, "Long", "long@example.com", 10),
    ("A-7", "First", "first@example.com", 10),
    ("A-7", "Again", "again@example.com", 10),
]


def findings(rows: list[tuple[str, str, str, int | str]], outstanding: int = 1_000) -> list[str]:
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(register_csv(rows)),
            record_date=__import__("datetime").date(2025, 9, 15),
            shares_outstanding=outstanding,
            imported_by=None,
        )
    return refused.value.errors


def test_every_line_finding_of_the_register_check_reads_in_italian() -> None:
    english = findings(BAD_LINES)
    # Every bad line is named: lines 2 to 8 for their cells, line 10 for repeating line 9's holder.
    assert [int(finding.split(":")[0][5:]) for finding in english] == [2, 3, 4, 5, 6, 7, 8, 10]
    with translation.override("it"):
        italian = [register_error_text(finding) for finding in english]
    for before, after in zip(english, italian, strict=True):
        assert after != before, f"left in English: {after}"
        assert after.startswith("riga "), after
    assert any(("1.000" not in text and "mancante" in text) or "manca" in text for text in italian)


def test_a_register_larger_than_the_shares_outstanding_is_named_with_italian_grouping() -> None:
    english = findings([("A-1", "Alice", "alice@example.com", 2_000_000)], outstanding=1_000_000)
    with translation.override("it"):
        text = register_error_text(english[0])
    assert "2.000.000" in text and "1.000.000" in text, text


def test_a_finding_it_does_not_know_is_shown_as_it_is() -> None:
    assert register_error_text("line 4: something new") == "line 4: something new"
