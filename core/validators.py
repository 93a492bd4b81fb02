"""What a one-line field may hold, shared by models, forms, serializers and services.

A title or a name travels into e-mail subjects (where a line break is a header injection),
CSV cells and single-line page elements, and PostgreSQL refuses NUL in text outright (an
uncaught DataError). Control characters there are never meant: refusing them at the field
gives a form error or a 400 instead."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional
# controls: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069) and the marks
# (U+200E, U+200F, U+061C). Each makes a one-line title or name display otherwise than it reads
# ("Invoice\u202egpj.exe" shows as "Invoiceexe.jpg"; a mark reorders the digits and punctuation
# around it): a spoofing tool in a board portal, never needed by plain Arabic or Hebrew, which
# the Unicode bidirectional algorithm lays out by itself.
BIDI_OVERRIDES = "\u202a-\u202e\u2066-\u2069"
BIDI_MARKS = "\u200e\u200f\u061c"
CONTROL_CHARACTERS = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_OVERRIDES}{BIDI_MARKS}]")
# What an error message may echo of a value the user sent (a 100 MB cell is not echoed whole).
ECHO_LIMIT = 80


# The years a date or moment the site stores may fall in. Python's calendar stops at the years 1
# and 9999, and a day's arithmetic at either edge (a meeting's default proxy cut-off is the day
# before it) or a time zone's offset (a page showing 9999-12-31 23:59 UTC in Rome) overflows: an
# OverflowError, a 500 on every page and list that shows the value. No meeting or poll lies
# outside these years.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2999


def outside_calendar(value: datetime.date) -> bool:
    """Whether a date (or a date and time) falls outside EARLIEST_YEAR..LATEST_YEAR."""
    return not EARLIEST_YEAR <= value.year <= LATEST_YEAR


def outside_calendar_message() -> str:
    return str(
        _("Choose a date between the years %(first)s and %(last)s.") % {"first": EARLIEST_YEAR, "last": LATEST_YEAR}
    )


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def no_control_characters(value: Any) -> None:
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(
            _("Line breaks, tabs and other control characters are not allowed here."), code="control_characters"
        )


# Free text (a comment, a description) may be written in Arabic or Hebrew, where a directional
# mark or a line break is legitimate; an override, embedding or isolate still is not: it turns
# the displayed text around whatever the writer's language.
BIDI_OVERRIDE_CHARACTERS = re.compile(f"[{BIDI_OVERRIDES}]")


def has_bidi_overrides(value: str) -> bool:
    return BIDI_OVERRIDE_CHARACTERS.search(value) is not None


def no_bidi_overrides(value: Any) -> None:
    if isinstance(value, str) and has_bidi_overrides(value):
        raise ValidationError(
            _("Unicode direction overrides, embeddings and isolates are not allowed here."), code="bidi_overrides"
        )


def bidi_override_fields(**values: str | None) -> list[str]:
    """The names of the free-text values holding an override, embedding or isolate: the
    services' own check, for callers that bypass forms and serializers."""
    return [name for name, value in values.items() if value and has_bidi_overrides(value)]


def bidi_overrides_message(fields: list[str]) -> str:
    return str(
        _("Unicode direction overrides, embeddings and isolates are not allowed in: %(fields)s.")
        % {"fields": ", ".join(fields)}
    )


def shown(value: str, limit: int = ECHO_LIMIT) -> str:
    """A value as an error message may echo it: at most `limit` characters, then an ellipsis."""
    return value if len(value) <= limit else value[:limit] + "…"


class SingleLineCharField(models.CharField):
    """A CharField that refuses control characters wherever it is validated (model forms, the
    admin, model serializers). The validator is a default one, so it is not part of the
    field's migration state: migrations keep seeing a plain CharField."""

    default_validators = [no_control_characters]

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def control_character_fields(**values: str | Iterable[str]) -> list[str]:
    """The names of the values (or lists of values) holding a control character: the
    services' own check, for callers that bypass forms and serializers."""
    return [
        name
        for name, value in values.items()
        if any(has_control_characters(item) for item in ([value] if isinstance(value, str) else value))
    ]


def control_characters_message(fields: list[str]) -> str:
    return str(
        _("Line breaks, tabs and other control characters are not allowed in: %(fields)s.")
        % {"fields": ", ".join(fields)}
    )


def _snapshot_percentage(label: Any, raw: Any) -> str:
    """One option of a snapshot: its label plain text, its percentage as a string."""
    if not isinstance(label, str) or not label.strip() or has_control_characters(label):
        raise ValidationError(_("Each option label must be plain, non-empty text."))
    try:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
            raise InvalidOperation
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int) or exponent < -1 or not 0 <= number <= 100:
        raise ValidationError(
            _("%(label)s: a percentage is a number from 0 to 100 with at most one decimal.") % {"label": shown(label)}
        )
    return str(number)


def snapshot_percentages(value: Any, options: Iterable[str] | None) -> dict[str, str]:
    """A recorded poll's snapshot as the API takes it: option label to a percentage between 0
    and 100 with at most one decimal, as a string. `options`, when known, are the only labels
    allowed. The pages and the API read stored snapshots as numbers: anything else is refused
    here, on the way in."""
    if not isinstance(value, dict) or not value:
        raise ValidationError(_('Give each option\'s percentage, e.g. {"Yes": "67.9", "No": "32.1"}.'))
    cleaned = {label: _snapshot_percentage(label, raw) for label, raw in value.items()}
    if options is not None:
        unknown = sorted(set(cleaned) - set(options))
        if unknown:
            raise ValidationError(
                _("Not options of this poll: %(labels)s.") % {"labels": ", ".join(shown(label) for label in unknown)}
            )
    return cleaned


def stored_percent(percentages: Any, label: str) -> Decimal | None:
    """One option's percentage from a stored snapshot, or None when it is missing or not a
    percentage (a row written past the checks): readers skip it rather than fail."""
    if not isinstance(percentages, dict) or label not in percentages:
        return None
    try:
        number = Decimal(str(percentages[label]).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and 0 <= number <= 100 else None
