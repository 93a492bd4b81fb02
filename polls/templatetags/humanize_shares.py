from django import template

register = template.Library()


@register.filter
def shares(value: int | str | None) -> str:
    """1060000000 -> "1,060,000,000": share counts read as whole numbers, never rounded."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"
