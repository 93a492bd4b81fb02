"""Recusal by party, not by spelling, and a recorded recusal that binds for its review."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.audit import audit_trail
from core.models import AuditEvent
from proposals import party_services, people_services, review_votes
from proposals.exceptions import InvalidProposal, NotAllowed
from proposals.models import Party, Proposal, Recusal, ReviewVote
from proposals.parties import party_key
from proposals.selectors import review_tally
from tests.factories import make_director, make_proposal, make_secretary, start_review

XAI_SPELLINGS = ["xAI", "xAI Corp", "x.AI", "xAI\u200b", "\uff58AI", "XAI, Inc.", "  x-ai  holdings "]


@pytest.mark.parametrize("spelling", XAI_SPELLINGS)
def test_every_spelling_of_a_party_has_the_same_key(spelling: str) -> None:
    assert party_key(spelling) == "xai"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Tesla, Inc.", "tesla"),
        ("Enel S.p.A.", "enel"),
        ("Space X", "spacex"),
        ("Siemens AG", "siemens"),
        ("Inc", "inc"),
        ("", ""),
        ("\u200b\u200d ... ", ""),
    ],
)
def test_legal_suffixes_and_punctuation_do_not_tell_parties_apart(text: str, key: str) -> None:
    assert party_key(text) == key


@given(st.text(max_size=60))
def test_normalising_a_key_again_changes_nothing(text: str) -> None:
    key = party_key(text)
    assert party_key(key) in (key, "")
    assert key == key.casefold()


@given(st.text(max_size=40), st.sampled_from(["\u200b", "\u200c", "\u2060", "\ufeff", "\u200e"]))
def test_invisible_characters_never_change_the_key(text: str, invisible: str) -> None:
    middle = len(text) // 2
    assert party_key(text[:middle] + invisible + text[middle:]) == party_key(text)


@pytest.mark.django_db
@pytest.mark.parametrize("counterparty", XAI_SPELLINGS)
def test_a_director_interested_in_xai_is_recused_whatever_the_proposal_calls_it(counterparty: str) -> None:
    elon = make_director("elon", interests=("xAI",))
    proposal = start_review(make_proposal(counterparty=counterparty), make_secretary())
    recusal = Recusal.objects.get(proposal=proposal)
    assert (recusal.director, recusal.interest) == (elon, "xAI")
    with pytest.raises(NotAllowed):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=elon.user, decision="approve")
    assert not ReviewVote.objects.filter(proposal=proposal).exists()


@pytest.mark.django_db
def test_an_alias_the_secretary_adds_recuses_like_the_party_name() -> None:
    secretary = make_secretary()
    elon = make_director("elon", interests=("xAI",))
    xai = Party.objects.get(name="xAI")
    party_services.party_alias_add(party=xai, text="X.AI Holdings Corp / Grok", actor=secretary)
    party_services.party_alias_add(party=xai, text="Grok", actor=secretary)
    proposal = start_review(make_proposal(counterparty="grok"), secretary)
    assert elon.recused_from(proposal) == "xAI"
    assert proposal.party == xai or Proposal.objects.get(pk=proposal.pk).party == xai


@pytest.mark.django_db
def test_an_unknown_counterparty_becomes_an_unconfirmed_party_for_the_secretary() -> None:
    proposal = make_proposal(counterparty="Neuralink Corp.")
    party = Proposal.objects.get(pk=proposal.pk).party
    assert party is not None
    assert (party.name, party.confirmed) == ("Neuralink Corp.", False)
    assert make_proposal(counterparty="NEURALINK").party == party


@pytest.mark.django_db
def test_an_alias_already_naming_another_party_is_refused() -> None:
    secretary = make_secretary()
    make_proposal(counterparty="xAI")
    spacex = party_services.party_resolve(text="SpaceX")
    assert spacex is not None
    with pytest.raises(InvalidProposal):
        party_services.party_alias_add(party=spacex, text="x.ai", actor=secretary)


@pytest.mark.django_db
def test_clearing_the_interest_after_recusal_does_not_unbind_it(api: APIClient) -> None:
    secretary = make_secretary()
    elon = make_director("elon", interests=("xAI",))
    others = [make_director(name) for name in ("robyn", "kimbal", "ira", "james")]
    proposal = start_review(make_proposal(), secretary)
    api.force_authenticate(secretary)
    cleared = api.post("/api/v1/directors/", {"user": "elon", "title": "CEO", "interests": []}, format="json")
    assert cleared.status_code in (200, 201)
    elon.refresh_from_db()
    assert elon.interests == []

    api.force_authenticate(elon.user)
    vote = api.post(f"/api/v1/proposals/{proposal.pk}/review-votes/", {"decision": "approve"}, format="json")
    assert vote.status_code == 403
    assert not ReviewVote.objects.filter(director=elon).exists()
    # The tally still counts four disinterested directors, not five.
    assert review_tally(proposal).disinterested == len(others)


@pytest.mark.django_db
def test_only_the_secretary_lifts_a_recusal_with_a_reason_on_the_trail() -> None:
    secretary = make_secretary()
    elon = make_director("elon", interests=("xAI",))
    make_director("robyn")
    proposal = start_review(make_proposal(), secretary)
    recusal = Recusal.objects.get(proposal=proposal, director=elon)
    with pytest.raises(NotAllowed):
        party_services.recusal_lift(recusal_id=recusal.pk, reason="He sold his stake", actor=elon.user)
    with pytest.raises(InvalidProposal):
        party_services.recusal_lift(recusal_id=recusal.pk, reason="  ", actor=secretary)

    party_services.recusal_lift(recusal_id=recusal.pk, reason="He sold his stake", actor=secretary)

    assert elon.recused_from(proposal) is None
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=elon.user, decision="abstain")
    lifted = [event for event in audit_trail(f"proposal:{proposal.pk}") if event.action == "recusal_lifted"]
    assert [(e.payload["director"], e.payload["reason"]) for e in lifted] == [("elon", "He sold his stake")]


@pytest.mark.django_db
def test_interest_declarations_are_on_the_directors_own_chain() -> None:
    elon = make_director("elon", interests=("xAI",))
    people_services.director_save(director_user=elon.user, title="CEO", interests=[])
    events = audit_trail(f"director:{elon.user.pk}")
    assert [event.payload["interests"] for event in events] == [["xAI"], []]


@pytest.mark.django_db
def test_an_interest_declared_mid_review_recuses_at_once() -> None:
    kimbal = make_director("kimbal")
    make_director("robyn")
    proposal = make_proposal()
    start_review(proposal, make_secretary())
    people_services.director_save(director_user=kimbal.user, title="Director", interests=["xai"])
    assert Recusal.objects.get(proposal=proposal).interest == "xai"
    assert AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action="director_recused").count() == 1


@pytest.mark.django_db
def test_the_secretary_lifts_a_recusal_from_the_proposal_page_and_a_director_cannot(client: Any) -> None:
    secretary = make_secretary()
    elon = make_director("elon", interests=("xAI",))
    make_director("robyn")
    proposal = start_review(make_proposal(), secretary)
    recusal = Recusal.objects.get(proposal=proposal, director=elon)
    url = f"/proposals/recusals/{recusal.pk}/lift/"

    client.force_login(elon.user)
    assert client.post(url, {"reason": "I sold my stake"}).status_code == 403
    client.force_login(secretary)
    page = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert url in page
    assert client.post(url, {"reason": ""}).status_code == 302
    assert Recusal.objects.get(pk=recusal.pk).lifted_at is None
    assert client.post(url, {"reason": "He sold his stake on 1 December"}).status_code == 302

    recusal.refresh_from_db()
    assert (recusal.lifted_by, recusal.lift_reason) == (secretary, "He sold his stake on 1 December")
    assert url not in client.get(f"/proposals/{proposal.pk}/").content.decode()
