"""A certification refused because running totals disagree with the ballots says what differs in
the certifier's language, naming the nominee, never an internal id or English code."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test import Client

from meetings.ballot_services import item_lines_cast
from polls import services
from polls.models import Option, Poll, PollStatus
from tests.factories import make_annual_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def test_an_italian_certify_refusal_names_the_nominee_whose_totals_differ_in_italian() -> None:
    cede = make_user(username="cede", email="cede@example.com")
    register = make_register([("H-CEDE", "Cede & Co", "cede@example.com", 10_000)], outstanding=20_000)
    meeting = make_meeting(register, title="2025 Annual Meeting")
    secretary = make_secretary()
    item = make_annual_item(meeting, "election", nominees=["Ada", "Bob"], election_standard="majority")
    ada, bob = Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True)
    item_lines_cast(poll_id=item.pk, actor=cede, data={"votes": {str(ada): "for", str(bob): "against"}})
    services.poll_close(poll=item)
    with connection.cursor() as cursor:  # a DBA's edit of the running totals
        cursor.execute("UPDATE meetings_itemterms SET shares_voted = shares_voted + 7 WHERE poll_id = %s", [item.pk])
        cursor.execute(
            "UPDATE meetings_nomineetally SET against_shares = against_shares + 7 WHERE option_id = %s", [bob]
        )
    browser = Client(HTTP_ACCEPT_LANGUAGE="it")
    browser.force_login(secretary)
    page = html.unescape(browser.post(f"/console/polls/{item.pk}/certify/", {}, follow=True).content.decode())
    assert Poll.objects.get(pk=item.pk).status == PollStatus.CLOSED
    assert "azioni votate: totale progressivo 10007, schede 10000" in page
    assert "Bob, contrari o negati: totale progressivo 1 schede / 10007 azioni, riconteggio 1 / 10000" in page
    assert "running" not in page and f"nominee {bob}" not in page
