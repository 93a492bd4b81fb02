"""The register check's findings are codes with values, put into words where they are shown:
every one reads in Italian, with nothing left in English, and a stored one reads the same."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import translation

from meetings.register_errors import MESSAGES, Finding, RegisterError, register_error_text
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


def refused(rows: list[tuple[str, str, str, int | str]], outstanding: int = 1_000) -> RegisterInvalid:
    with pytest.raises(RegisterInvalid) as refusal:
        register_import(
            source=io.BytesIO(register_csv(rows)),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=outstanding,
            actor=None,
        )
    return refusal.value


def test_every_line_finding_of_the_register_check_reads_in_italian() -> None:
    findings = refused(BAD_LINES).findings
    # Every bad line is named: lines 2 to 8 for their cells, line 10 for repeating line 9's holder.
    assert [finding.line for finding in findings] == [2, 3, 4, 5, 6, 7, 8, 10]
    english = [str(finding) for finding in findings]
    with translation.override("it"):
        italian = [str(finding) for finding in findings]
    for before, after in zip(english, italian, strict=True):
        assert after != before, f"left in English: {after}"
        assert after.startswith("riga "), after
    assert any(("1.000" not in text and "mancante" in text) or "manca" in text for text in italian)


def test_every_message_of_the_catalogue_has_its_italian() -> None:
    for code, message in MESSAGES.items():
        with translation.override("en"):
            english = str(message.text)
        with translation.override("it"):
            assert str(message.text) != english, f"{code} is left in English"


def test_a_register_larger_than_the_shares_outstanding_is_named_with_italian_grouping() -> None:
    [finding] = refused([("A-1", "Alice", "alice@example.com", 2_000_000)], outstanding=1_000_000).findings
    over = Finding("over_outstanding", {"total": 2_000_000, "outstanding": 1_000_000})
    assert finding == RegisterError(None, (over,))
    assert str(finding) == "the register holds 2,000,000 shares, more than the 1,000,000 outstanding"
    with translation.override("it"):
        text = str(finding)
    assert "2.000.000" in text and "1.000.000" in text, text


def test_a_stored_finding_reads_in_the_language_of_whoever_reads_it() -> None:
    """An import job keeps its findings as JSON; its page words them for its reader."""
    stored = [finding.as_json() for finding in refused(BAD_LINES).findings]
    assert stored[4] == {"line": 6, "findings": [{"code": "shares_not_whole", "params": {"found": "1.5"}}]}
    assert [RegisterError.from_json(item) for item in stored] == refused(BAD_LINES).findings
    assert register_error_text(stored[4]) == "line 6: shares must be a whole number, found '1.5'"
    with translation.override("it"):
        assert register_error_text(stored[4]) == "riga 6: le azioni devono essere un numero intero, trovato '1.5'"


def test_text_stored_before_findings_had_codes_and_an_unknown_code_are_shown_as_they_are() -> None:
    assert register_error_text("line 4: something new") == "line 4: something new"
    assert register_error_text({"line": 4, "findings": [{"code": "something_new", "params": {}}]}) == (
        "line 4: something_new"
    )
