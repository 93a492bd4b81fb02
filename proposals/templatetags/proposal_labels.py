from collections.abc import Mapping

from django import template
from django.utils.translation import gettext_lazy as _

from proposals.models import DECISION_CHOICES, STATE_CHOICES

register = template.Library()

STATE_LABELS = dict(STATE_CHOICES)
DECISION_LABELS = dict(DECISION_CHOICES)
# Workflow actions (on buttons) and audit events (in the timeline) as people read them.
WORDS = {
    "submit": _("Submit"),
    "resubmit": _("Resubmit"),
    "start_review": _("Start the board review"),
    "return": _("Return to the proposer"),
    "decide": _("Decide"),
    "refer": _("Refer to the shareholders"),
    "put_to_vote": _("Put to a shareholder vote"),
    "settle": _("Settle"),
    "implement": _("Mark as implemented"),
    "withdraw": _("Withdraw"),
    "created": _("created"),
    "edited": _("edited"),
    "commented": _("commented"),
    "attached": _("attached a file"),
    "attachment_visibility_set": _("changed who reads a file"),
    "director_recused": _("director recused"),
    "review_vote": _("review vote"),
    "review_vote_changed": _("review vote changed"),
    "follow_up_opened": _("follow-up opened"),
    "follow_up_done": _("follow-up done"),
    "interests_declared": _("interests declared"),
    "review_tied": _("the board is tied"),
    "review_rescheduled": _("new review due date"),
}


def _label(labels: Mapping[str, object], value: object) -> str:
    label = labels.get(str(value))
    return str(label) if label is not None else str(value).replace("_", " ")


@register.filter
def state_label(value: str) -> str:
    """in_review -> "In review" (or "In revisione"): a workflow state named in the audit trail."""
    return _label(STATE_LABELS, value)


@register.filter
def decision_label(value: str) -> str:
    """approve -> "Approve" (or "Favorevole"): a director's review vote."""
    return _label(DECISION_LABELS, value)


@register.filter
def proposal_word(value: str) -> str:
    """start_review -> "Start the board review": a workflow action or audit event, translated;
    an identifier it does not know shows with spaces."""
    return _label(WORDS, value)
