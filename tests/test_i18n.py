"""The interface in Italian: chosen by the browser's Accept-Language or the switcher, with
numbers and dates in the reader's locale."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from polls import services
from polls.models import PollStatus
from proposals import services as proposal_services
from proposals.workflow import Action
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "it" / "LC_MESSAGES"


@pytest.fixture(autouse=True)
def compiled_catalogue() -> None:
    compiled, source = CATALOGUE / "django.mo", CATALOGUE / "django.po"
    if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
        pytest.fail("The Italian catalogue is not compiled or is stale: run `make messages` (make test does).")


def italian() -> Client:
    return Client(headers={"accept-language": "it"})


def test_the_home_page_speaks_italian_when_the_browser_asks_for_it() -> None:
    make_poll(title="Should Tesla invest $5B into xAI?")
    page = italian().get("/").content.decode()
    assert '<html lang="it">' in page
    assert "Votazioni" in page
    assert "Aperte ora" in page
    assert "Polls held elsewhere" not in page


def test_an_english_browser_still_gets_english() -> None:
    page = Client(headers={"accept-language": "en"}).get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Open now" in page


def test_a_results_page_in_italian_groups_thousands_with_dots() -> None:
    register = make_register([("T-1", "Tesla Holder", "holder@example.com", 1_060_000_000)], outstanding=3_200_000_000)
    item = make_item(make_meeting(register), results_visibility="live")
    holder = make_user(email="holder@example.com")
    services.holders_link_user(user=holder)
    services.item_ballot_cast(poll_id=item.pk, voter=holder, choice="for", holder_id=register.holders.get().pk)
    page = italian().get(f"/polls/{item.pk}/results/").content.decode()
    assert "1.060.000.000" in page
    assert "3.200.000.000" in page
    assert "Risultati" in page
    assert "Azioni in circolazione" in page
    assert '<th scope="row">Favorevole</th>' in page  # stored as "For", read in Italian
    english = Client().get(f"/polls/{item.pk}/results/").content.decode()
    assert "1,060,000,000" in english


def test_percentages_use_the_italian_decimal_comma() -> None:
    poll = make_poll(options=("Sì", "No"), results_visibility="live")
    yes, no = poll.options.order_by("position")
    for option in (yes, yes, no):
        services.ballot_cast(poll_id=poll.pk, voter=make_user(), option_id=option.pk)
    page = italian().get(f"/polls/{poll.pk}/results/").content.decode()
    assert "66,7%" in page
    assert ">66.7%<" not in page  # the CSS width stays in CSS notation


def test_a_form_error_is_shown_in_italian() -> None:
    poll = make_poll()
    client = italian()
    client.force_login(make_user())
    response = client.post(f"/polls/{poll.pk}/vote/", {})
    assert response.status_code == 400
    assert "Scelga una delle opzioni." in response.content.decode()


def test_an_email_reaches_an_italian_reader_in_italian(django_capture_on_commit_callbacks: object) -> None:
    secretary = make_secretary(email="segretario@example.com")
    client = Client()
    client.force_login(secretary)
    client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    proposer = make_user()
    from tests.factories import make_proposal

    proposal = make_proposal(proposer, title="Investire 5 miliardi in xAI")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        proposal_services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposer)
    sent = [message for message in mail.outbox if "segretario@example.com" in message.to]
    assert len(sent) == 1
    assert "Proposta presentata" in sent[0].subject
    assert "Stato:" in sent[0].body
    html = sent[0].alternatives[0].content  # type: ignore[attr-defined]
    assert '<html lang="it">' in str(html)


def test_a_closed_poll_status_reads_in_italian() -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    assert "Chiusa" in italian().get(f"/polls/{poll.pk}/").content.decode()


def test_a_service_refusal_reaches_an_italian_secretary_in_italian() -> None:
    closed, still_open = make_poll(status=PollStatus.CLOSED), make_poll()
    client = italian()
    client.force_login(make_secretary())
    page = client.post(f"/console/polls/{closed.pk}/close/", {"confirmed": "yes"}, follow=True).content.decode()
    assert "Si può chiudere solo una votazione aperta; questa è chiusa." in page
    assert "Only an open poll can be closed" not in page
    response = client.post(f"/console/polls/{still_open.pk}/certify/")
    assert response.status_code == 409
    assert "Si può certificare solo una votazione chiusa; questa è aperta." in response.content.decode()


def test_signing_in_on_a_new_browser_restores_the_language_the_reader_chose() -> None:
    from polls.models import Profile

    reader = make_user(username="lettore")
    Profile.objects.create(user=reader, language="it")
    browser = Client()
    response = browser.post("/accounts/login/", {"username": "lettore", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "it"
    assert '<html lang="it">' in browser.get("/").content.decode()
