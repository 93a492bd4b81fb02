from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.formats import number_format

from polls.models import Choice, Poll, VoteStandard
from polls.register_errors import RegisterError, register_error_text
from polls.services import CHOICE_LABELS

register = template.Library()


@register.filter
def shares(value: int | str | None) -> str:
    """1060000000 -> "1,060,000,000" (or "1.060.000.000" for an Italian reader): share counts
    read as whole numbers in the reader's locale, never rounded."""
    if value is None or value == "":
        return ""
    return number_format(int(value), force_grouping=True)


@register.filter
def percent(value: Decimal | str | None) -> str:
    """ "67.9" -> "67.9%" (or "67,9%" for an Italian reader), keeping the digits given."""
    if value is None or value == "":
        return ""
    try:
        return f"{number_format(Decimal(value))}%"
    except InvalidOperation:
        return str(value)


@register.filter
def option_label(label: str, poll: Poll) -> str:
    """A shareholder item's options are stored as "For", "Against", "Abstain" (the filings are
    in English); readers see them in their own language."""
    if poll.is_item:
        for choice in Choice:
            if label == CHOICE_LABELS[choice]:
                return str(choice.label)
    return label


@register.filter
def register_error(finding: RegisterError | dict[str, Any] | str) -> str:
    """A register check's finding ("line 3: missing email") in the reader's language."""
    return register_error_text(finding)


@register.filter
def standard_label(value: str) -> str:
    """votes_cast -> "Votes cast (for / (for + against))"."""
    return str(VoteStandard(value).label) if value in VoteStandard.values else value
