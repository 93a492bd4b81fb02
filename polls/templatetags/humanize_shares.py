from django import template

from polls.models import VoteStandard

register = template.Library()


@register.filter
def shares(value: int | str | None) -> str:
    """1060000000 -> "1,060,000,000": share counts read as whole numbers, never rounded."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


@register.filter
def standard_label(value: str) -> str:
    """votes_cast -> "Votes cast (for / (for + against))"."""
    return str(VoteStandard(value).label) if value in VoteStandard.values else value


@register.filter
def words(value: str) -> str:
    """start_review -> "start review": identifiers shown to people."""
    return str(value).replace("_", " ")
