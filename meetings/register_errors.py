"""The register check's findings in the reader's language.

The checks speak English on purpose: on PostgreSQL the same findings are built by SQL, and the
two must agree line for line (tests compare them). Translating happens here, when a finding is
shown, by recognising each sentence the checks can produce."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.formats import number_format
from django.utils.translation import gettext as _

Finding = Callable[[re.Match[str]], str]


def _grouped(digits: str) -> str:
    return number_format(int(digits.replace(",", "")), force_grouping=True)


# Whole findings first: some contain "; " themselves.
WHOLE: list[tuple[re.Pattern[str], Finding]] = [
    (
        re.compile(r"the file is empty; expected the header holder,name,email,shares"),
        lambda m: _("the file is empty; expected the header holder,name,email,shares"),
    ),
    (
        re.compile(r"the file cannot be read as UTF-8 CSV \((?P<why>.*)\)", re.S),
        lambda m: _("the file cannot be read as UTF-8 CSV (%(why)s)") % {"why": m["why"]},
    ),
    (
        re.compile(r"the file cannot be read past this line \((?P<why>.*)\)", re.S),
        lambda m: _("the file cannot be read past this line (%(why)s)") % {"why": m["why"]},
    ),
    (
        re.compile(r"expected the header holder,name,email,shares, found (?P<found>.*)", re.S),
        lambda m: _("expected the header holder,name,email,shares, found %(found)s") % {"found": m["found"]},
    ),
    (
        re.compile(r"expected 4 fields \(holder,name,email,shares\), found (?P<n>\d+)"),
        lambda m: _("expected 4 fields (holder,name,email,shares), found %(n)s") % {"n": m["n"]},
    ),
    (
        re.compile(r"holder (?P<holder>.*) already appears on line (?P<first>\d+)", re.S),
        lambda m: (
            _("holder %(holder)s already appears on line %(first)s") % {"holder": m["holder"], "first": m["first"]}
        ),
    ),
    (
        re.compile(r"the register holds (?P<total>[\d,]+) shares, more than the (?P<outstanding>[\d,]+) outstanding"),
        lambda m: (
            _("the register holds %(total)s shares, more than the %(outstanding)s outstanding")
            % {"total": _grouped(m["total"]), "outstanding": _grouped(m["outstanding"])}
        ),
    ),
]
# One line's problems, joined with "; ".
PROBLEMS: list[tuple[re.Pattern[str], Finding]] = [
    (re.compile(r"missing (?P<column>holder|name|email|shares)"), lambda m: _("missing %(column)s") % m.groupdict()),
    (
        re.compile(r"control character in (?P<column>holder|name|email|shares)"),
        lambda m: _("control character in %(column)s") % m.groupdict(),
    ),
    (
        re.compile(r"shares must not be negative, found (?P<found>.*)", re.S),
        lambda m: _("shares must not be negative, found %(found)s") % m.groupdict(),
    ),
    (
        re.compile(r"shares must be at most 18 digits, found (?P<n>\d+)"),
        lambda m: _("shares must be at most 18 digits, found %(n)s") % m.groupdict(),
    ),
    (
        re.compile(r"shares must be a whole number, found (?P<found>.*)", re.S),
        lambda m: _("shares must be a whole number, found %(found)s") % m.groupdict(),
    ),
    (
        re.compile(r"(?P<email>.*) is not a valid e-mail address", re.S),
        lambda m: _("%(email)s is not a valid e-mail address") % m.groupdict(),
    ),
    (
        re.compile(r"holder id is limited to 64 characters and name to 200"),
        lambda m: _("holder id is limited to 64 characters and name to 200"),
    ),
]
LINE = re.compile(r"line (?P<line>\d+): (?P<rest>.*)", re.S)


def _first(patterns: list[tuple[re.Pattern[str], Finding]], text: str) -> str | None:
    for pattern, translate in patterns:
        match = pattern.fullmatch(text)
        if match:
            return translate(match)
    return None


def register_error_text(finding: str) -> str:
    """One finding of the register check, as the reader reads it; unknown text is kept."""
    located = LINE.fullmatch(finding)
    rest = located["rest"] if located else finding
    text = _first(WHOLE, rest)
    if text is None:
        text = "; ".join(_first(PROBLEMS, part) or part for part in rest.split("; "))
    return _("line %(line)s: %(finding)s") % {"line": located["line"], "finding": text} if located else text
