"""Option labels: one spelling per option. "Yes" and "yes", or "Yes" typed with a full-width
letter or two spaces, are the same answer to a voter, so they cannot be two options of a poll.
The services call it, and the database's UniqueConstraint on
Lower("label") per poll (migration 0008) holds the case-insensitive part even for a write that
bypasses them."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from django.utils.translation import gettext as _


def option_label_clean(label: str) -> str:
    """The label as stored: NFKC (full-width and compatibility forms folded) with runs of
    whitespace collapsed to one space and none at either end."""
    return " ".join(unicodedata.normalize("NFKC", label).split())


def option_label_key(label: str) -> str:
    """What two labels must not share: the cleaned label, case-folded."""
    return option_label_clean(label).casefold()


def option_label_duplicates(labels: Sequence[str]) -> list[str]:
    """The labels (as given, in order) that repeat an earlier one once cleaned and case-folded."""
    seen: set[str] = set()
    repeated: list[str] = []
    for label in labels:
        key = option_label_key(label)
        if key in seen:
            repeated.append(label)
        seen.add(key)
    return repeated


def options_not_distinct(labels: Sequence[str]) -> str:
    """The refusal, naming what repeats so the secretary sees which line to fix."""
    repeated = option_label_duplicates(labels)
    if not repeated:
        return _("Options must not be empty.")
    return _("Options must be distinct, ignoring case and spacing: %(labels)s repeats an earlier option.") % {
        "labels": ", ".join(f"“{label}”" for label in repeated)
    }
