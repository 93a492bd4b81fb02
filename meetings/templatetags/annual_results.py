"""Words for the annual meeting's results (meetings/templates/meetings/results/): the same as
the Item 5.07 report's (meetings.item_507), so the page and the filing say the same thing."""

from __future__ import annotations

from django import template

from meetings import item_507

register = template.Library()


@register.filter
def nominee_result(status: str) -> str:
    """elected -> "Elected"; resignation_tendered -> "Not elected: resignation tendered under the
    majority-voting policy"; tied -> "Not elected: tied for the last seat"; no_quorum -> "Not
    elected: no quorum"."""
    return item_507.nominee_result_text(status)


@register.filter
def bar_width(percent: object) -> str:
    """A percentage as an SVG length ("55.5"), never in the reader's number format: the bars are
    drawn in a 0..100 box."""
    return "0" if percent is None or percent == "" else str(percent)


@register.filter
def threshold_comparator(recorded: object) -> str:
    """A decision's threshold as recorded ("> 1/2", ">= 2/3") -> its comparator in words ("more
    than", "at least"). A certified page reads the rule from its record, never the poll's row,
    which an edit (even by SQL) could change after the fact."""
    return item_507.threshold_parts(recorded)[0]


@register.filter
def threshold_fraction(recorded: object) -> str:
    """A decision's threshold as recorded ("> 1/2") -> its fraction ("1/2")."""
    return item_507.threshold_parts(recorded)[1]
