"""An item's rules against the trail. Once an item opens its rules are frozen (the services
refuse every change), and its `poll_opened` link records them: the standard, threshold and
comparator, the meeting's quorum and register, an election's seats and standard; its
`poll_closed` link records them again. A row that differs from either was changed by SQL, and
certification would freeze the changed rule into the result it serves. Items opened before the
links carried them are not compared."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from django.utils.translation import gettext_lazy

from polls import kinds
from polls.models import Poll
from polls.trail_records import Link, record_check_register

# The links that record the rules: the opening's, and the closing's, for an item whose whole
# window passed before a sweep and so closed without an opening link.
ACTIONS = ("poll_opened", "poll_closed")


def rules_problems(latest: dict[int, Link], poll_ids: Collection[int] | None) -> Iterator[tuple[int, str]]:
    recorded = {
        poll_id: link
        for poll_id, link in latest.items()
        if "rules" in link.payload and (poll_ids is None or poll_id in poll_ids)
    }
    for poll in Poll.objects.filter(pk__in=list(recorded)).select_related("meeting__register").order_by("pk"):
        link = recorded[poll.pk]
        rules, live = link.payload["rules"], kinds.form_of(poll).certified_rules(poll)
        differing = sorted(name for name in rules.keys() | live.keys() if rules.get(name) != live.get(name))
        if differing:
            names = ", ".join(differing)
            yield poll.pk, f"its rules ({names}) differ from those its link #{link.seq} recorded"


def rules_check_register() -> None:
    refusal = gettext_lazy(
        "Certification stopped: the item's rules differ from those the audit trail recorded when it opened, "
        "so they were changed outside Quorum. Run verify_audit to see what differs."
    )
    for action in ACTIONS:
        record_check_register(action=action, refusal=refusal, check=rules_problems)
