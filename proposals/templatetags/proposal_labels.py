from django import template

from proposals.models import STATE_CHOICES

register = template.Library()

STATE_LABELS = dict(STATE_CHOICES)


@register.filter
def state_label(value: str) -> str:
    """in_review -> "In review" (or "In revisione"): a workflow state named in the audit trail."""
    label = STATE_LABELS.get(str(value))
    return str(label) if label is not None else str(value).replace("_", " ")
