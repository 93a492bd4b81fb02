"""Ballot forms are kinds registered with the engine (polls/kinds.py): the engine, the pages and
the other apps ask the poll's form, so what a form says is what they do. Each test swaps the
public poll's form for one that says otherwise and watches the engine follow."""

from __future__ import annotations

import pytest
from django.test import Client

from meetings.kinds import ShareholderItem
from polls import kinds, selectors
from polls.ballots import ballot_cast
from polls.exceptions import InvalidPollData, NotEligible
from polls.models import Poll, PollKind
from polls.services import poll_escalation_set
from tests.factories import make_item, make_meeting, make_poll, make_register, make_user

pytestmark = pytest.mark.django_db


def test_each_kind_has_its_registered_form() -> None:
    assert type(kinds.form_for(PollKind.PUBLIC)) is kinds.BallotForm
    assert type(kinds.form_for(PollKind.SHAREHOLDER)) is ShareholderItem
    assert [kinds.form_for(kind).form_name for kind in ("election", "frequency", "choice")] == [
        "election",
        "frequency",
        "choice",
    ]
    with pytest.raises(LookupError):
        kinds.form_for("referendum")


def test_a_poll_reads_its_form_from_the_registry() -> None:
    poll = make_poll()
    item = make_item(make_meeting(make_register([("A-1", "Alice", "a@example.com", 10)], outstanding=10)))
    assert poll.ballot_form is kinds.form_for(PollKind.PUBLIC)
    assert item.ballot_form is kinds.form_for(PollKind.SHAREHOLDER)


def test_the_kinds_are_chosen_by_what_their_forms_say() -> None:
    assert kinds.kinds_where(lambda form: form.listed) == [PollKind.PUBLIC]
    assert kinds.kinds_where(lambda form: form.option_ballots) == [PollKind.PUBLIC]
    assert kinds.kinds_where(lambda form: form.takes_tabulation) == ["choice", "election", "frequency", "shareholder"]
    assert kinds.kinds_named("shareholder") == ["choice", "election", "frequency", "shareholder"]
    assert kinds.kind_for(api_kind="shareholder", form_name="election") == "election"
    assert kinds.kind_for(api_kind="public", form_name="proposal") == "public"


class Quiet(kinds.BallotForm):
    """The public poll, but unlisted, voted elsewhere, never escalated, with its labels shouted."""

    listed = False
    option_ballots = False
    escalates = False

    def option_label(self, label: str) -> str:
        return label.upper()


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> Quiet:
    form = Quiet()
    monkeypatch.setitem(kinds._FORMS, PollKind.PUBLIC, form)
    return form


@pytest.mark.usefixtures("quiet")
def test_the_listing_shows_only_listed_forms() -> None:
    make_poll(title="Listed only if its form says so")
    listing = selectors.poll_listing(user=make_user())
    assert listing.open == listing.upcoming == listing.closed == []


@pytest.mark.usefixtures("quiet")
def test_a_form_without_option_ballots_refuses_one_and_its_page_offers_no_vote(client: Client) -> None:
    poll, voter = make_poll(), make_user()
    with pytest.raises(NotEligible):
        ballot_cast(poll_id=poll.pk, actor=voter, option_id=poll.options.first().pk)  # type: ignore[union-attr]
    client.force_login(voter)
    assert 'class="card vote-form"' not in client.get(f"/polls/{poll.pk}/").content.decode()


@pytest.mark.usefixtures("quiet")
def test_escalation_and_labels_follow_the_form() -> None:
    poll = make_poll(options=("Yes", "No"))
    with pytest.raises(InvalidPollData):
        poll_escalation_set(poll=poll, option_label="Yes")
    assert Poll.objects.get(pk=poll.pk).ballot_form.option_label("Yes") == "YES"
