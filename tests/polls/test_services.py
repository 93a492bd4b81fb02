from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import AuditEvent
from polls import certification, selectors, services
from polls.ballots import ballot_cast, ballot_withdraw
from polls.exceptions import (
    ChangeNotAllowed,
    IllegalTransition,
    InvalidOption,
    InvalidPollData,
    NoBallot,
    NotEligible,
    PollNotFound,
    PollNotOpen,
    RecountMismatch,
)
from polls.models import Ballot, Option, Poll, PollStatus
from proposals.models import Proposal
from tests.factories import make_poll, make_secretary, make_user

pytestmark = pytest.mark.django_db


def option_id(poll: Poll, label: str) -> int:
    return poll.options.get(label=label).pk


def totals(poll: Poll) -> dict[str, int]:
    return dict(poll.options.values_list("label", "votes"))


def test_a_first_ballot_is_created_and_counted(member: Any) -> None:
    poll = make_poll()
    result = ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    assert result.created
    assert totals(poll) == {"Yes": 1, "No": 0}


def test_changing_a_vote_moves_the_count_and_keeps_one_ballot(member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    result = ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "No"))
    assert (result.created, result.changed) == (False, True)
    assert totals(poll) == {"Yes": 0, "No": 1}
    assert Ballot.objects.values_list("option__label", flat=True).get(poll=poll, voter=member) == "No"


def test_recasting_the_same_option_changes_nothing(member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    result = ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    assert (result.created, result.changed) == (False, False)
    assert totals(poll) == {"Yes": 1, "No": 0}


def test_a_second_ballot_is_refused_when_change_is_not_allowed(member: Any) -> None:
    poll = make_poll(allow_change=False)
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    with pytest.raises(ChangeNotAllowed):
        ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "No"))
    assert totals(poll) == {"Yes": 1, "No": 0}


@pytest.mark.parametrize(
    ("status", "refusal"),
    [(PollStatus.DRAFT, PollNotFound), (PollStatus.SCHEDULED, PollNotOpen), (PollStatus.CLOSED, PollNotOpen)],
)
def test_ballots_are_refused_unless_the_poll_is_open(member: Any, status: str, refusal: type[Exception]) -> None:
    poll = make_poll(status=status, opens_in=datetime.timedelta(hours=1 if status == "scheduled" else -1))
    with pytest.raises(refusal):
        ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    assert not Ballot.objects.exists()


def test_a_poll_past_its_closing_time_refuses_ballots_before_the_sweep_runs(member: Any) -> None:
    poll = make_poll()
    later = poll.closes_at + datetime.timedelta(seconds=1)
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN
    with pytest.raises(PollNotOpen, match="closed"):
        ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"), now=later)


def test_an_option_of_another_poll_is_refused(member: Any) -> None:
    poll, other = make_poll(), make_poll(title="Another")
    with pytest.raises(InvalidOption):
        ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(other, "Yes"))
    assert not Ballot.objects.exists()


def test_an_unknown_poll_is_reported_as_not_found(member: Any) -> None:
    with pytest.raises(PollNotFound):
        ballot_cast(poll_id=999_999, actor=member, option_id=1)


def test_an_inactive_account_cannot_vote() -> None:
    poll = make_poll()
    with pytest.raises(NotEligible):
        ballot_cast(poll_id=poll.pk, actor=make_user(is_active=False), option_id=option_id(poll, "Yes"))


def test_withdrawing_removes_the_ballot_and_its_count(member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "No"))
    ballot_withdraw(poll_id=poll.pk, actor=member)
    assert totals(poll) == {"Yes": 0, "No": 0}
    with pytest.raises(NoBallot):
        ballot_withdraw(poll_id=poll.pk, actor=member)


def test_the_database_refuses_a_second_ballot_even_without_the_service(member: Any) -> None:
    poll = make_poll()
    Ballot.objects.create(poll=poll, voter=member, option_id=option_id(poll, "Yes"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(poll=poll, voter=member, option_id=option_id(poll, "No"))


def test_the_database_refuses_a_negative_running_total() -> None:
    poll = make_poll()
    with pytest.raises(IntegrityError), transaction.atomic():
        Option.objects.filter(poll=poll).update(votes=-1)


def test_the_database_refuses_an_unknown_status() -> None:
    poll = make_poll()
    with pytest.raises(IntegrityError), transaction.atomic():
        Poll.objects.filter(pk=poll.pk).update(status="paused")


@pytest.mark.parametrize("labels", [("Only one",), tuple(f"Option {i}" for i in range(21)), ("Yes", "Yes")])
def test_a_poll_needs_two_to_twenty_distinct_options(labels: tuple[str, ...]) -> None:
    with pytest.raises(InvalidPollData):
        make_poll(options=labels, status=PollStatus.DRAFT)
    assert not Poll.objects.exists()


def test_opening_early_moves_the_opening_time_to_now() -> None:
    poll = make_poll(status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(days=1))
    before = timezone.now()
    poll = services.poll_open(poll=poll)
    assert poll.status == PollStatus.OPEN
    assert before <= poll.opens_at <= timezone.now()


def test_closing_twice_is_refused_the_second_time() -> None:
    poll = make_poll()
    services.poll_close(poll=poll)
    with pytest.raises(IllegalTransition):
        services.poll_close(poll=poll)


def test_the_sweep_opens_and_closes_due_polls_and_is_safe_to_run_twice() -> None:
    start = timezone.now()
    due = make_poll(status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(minutes=1))
    ending = make_poll(opens_in=datetime.timedelta(minutes=-1), lasts=datetime.timedelta(minutes=3))
    first = services.polls_sweep(now=start + datetime.timedelta(seconds=90))
    assert (first.opened, first.closed) == (1, 0)
    later = start + datetime.timedelta(minutes=5)
    assert services.polls_sweep(now=later) == services.SweepReport(opened=0, closed=1)
    assert services.polls_sweep(now=later) == services.SweepReport(opened=0, closed=0)
    assert Poll.objects.get(pk=due.pk).status == PollStatus.OPEN
    assert Poll.objects.get(pk=ending.pk).status == PollStatus.CLOSED


def test_results_for_three_options_and_seven_ballots_sum_to_one_hundred() -> None:
    poll = make_poll(options=("Yes", "No", "Abstain"))
    for label, how_many in (("Yes", 3), ("No", 2), ("Abstain", 2)):
        for _ in range(how_many):
            ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=option_id(poll, label))
    results = selectors.poll_results(poll=poll)
    assert results.total_ballots == 7
    assert [str(option.percent) for option in results.options] == ["42.8", "28.6", "28.6"]
    assert sum(option.percent for option in results.options) == 100
    assert results.winner is not None and results.winner.label == "Yes"


def test_results_report_a_tie_without_a_winner() -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=option_id(poll, "Yes"))
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=option_id(poll, "No"))
    results = selectors.poll_results(poll=poll)
    assert results.winner is None
    assert [option.label for option in results.tied] == ["Yes", "No"]


def test_turnout_counts_ballots_against_active_accounts() -> None:
    poll = make_poll()
    voters = [make_user() for _ in range(4)]
    ballot_cast(poll_id=poll.pk, actor=voters[0], option_id=option_id(poll, "Yes"))
    turnout = selectors.poll_results(poll=poll).turnout
    assert (turnout.ballots, turnout.eligible, str(turnout.percent)) == (1, 4, "25.0")


def test_results_read_a_constant_number_of_queries(django_assert_num_queries: Any) -> None:
    poll = make_poll()
    for _ in range(30):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=option_id(poll, "Yes"))
    with django_assert_num_queries(2):  # the option rows and the eligible count
        selectors.poll_results(poll=poll)


def test_certification_freezes_a_closed_poll_whose_totals_match(secretary: Any, member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    services.poll_close(poll=poll)
    poll = certification.poll_certify(poll=poll, actor=secretary)
    assert poll.status == PollStatus.CERTIFIED
    assert poll.certified_by == secretary and poll.certified_at is not None


def test_certification_refuses_and_reports_a_mismatch(secretary: Any, member: Any) -> None:
    poll = make_poll()
    ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    services.poll_close(poll=poll)
    Option.objects.filter(poll=poll, label="Yes").update(votes=5, weight=5)
    with pytest.raises(RecountMismatch, match="Yes: running 5 votes / 5 weight, recount 1 / 1"):
        certification.poll_certify(poll=poll, actor=secretary)
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED


def test_an_open_poll_cannot_be_certified(secretary: Any) -> None:
    with pytest.raises(IllegalTransition):
        certification.poll_certify(poll=make_poll(), actor=secretary)


def test_certifying_a_poll_past_its_close_records_the_close_and_escalates(
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_secretary()
    poll = make_poll(opens_in=datetime.timedelta(minutes=-1), lasts=datetime.timedelta(minutes=5))
    services.poll_escalation_set(poll=poll, option_label="Yes")
    ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=poll.options.get(label="Yes").pk)
    later = poll.closes_at + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        certification.poll_certify(poll=poll, actor=make_secretary(), now=later)
    actions = list(AuditEvent.objects.filter(stream=f"poll:{poll.pk}").values_list("action", flat=True))
    assert actions == ["poll_opened", "poll_closed", "poll_certified"]
    assert Proposal.objects.filter(escalated_from=poll).count() == 1


def test_editing_is_refused_once_the_poll_is_open() -> None:
    poll = make_poll()
    with pytest.raises(IllegalTransition):
        services.poll_update(poll=poll, title="Something else")
    assert Poll.objects.get(pk=poll.pk).title != "Something else"


def test_the_reconciliation_sweep_reports_polls_whose_totals_drifted(member: Any, caplog: Any) -> None:
    import logging

    from polls import tasks

    fine, drifted = make_poll(title="Fine"), make_poll(title="Drifted")
    for poll in (fine, drifted):
        ballot_cast(poll_id=poll.pk, actor=member, option_id=option_id(poll, "Yes"))
    Option.objects.filter(poll=drifted, label="No").update(votes=3, weight=3)
    with caplog.at_level(logging.ERROR, logger="quorum.polls"):
        assert tasks.polls_reconcile.delay().get() == [drifted.pk]
    assert f"poll {drifted.pk}: running totals differ from the recount: No 3/0" in caplog.text
