from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

from polls import kinds
from polls.models import Poll, VoteStandard

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
    """An option's label as the reader sees it: the poll's form says (a shareholder item's
    "For", "Against", "Abstain" read in the reader's language)."""
    return kinds.form_of(poll).option_label(label)


@register.filter
def standard_label(value: str) -> str:
    """votes_cast -> "Votes cast (for / (for + against))"."""
    return str(VoteStandard(value).label) if value in VoteStandard.values else value
