"""A proxy instruction in the reader's words, for the meeting's and the proxy's pages."""

from __future__ import annotations

from django import template

from meetings.proxy_forms import INSTRUCTION_LABELS

register = template.Library()


@register.filter
def instruction_label(value: str) -> str:
    return str(INSTRUCTION_LABELS.get(value, value))
