"""A certified choice item's page states the threshold it was decided under from its frozen
record: an edit of the poll's row afterwards, even by SQL, changes nothing served."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test import Client

from meetings.ballot_services import item_lines_cast
from polls import certification, services
from polls.models import Option
from tests.factories import make_annual_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


def _main(client: Client, poll_id: int) -> str:
    page = html.unescape(client.get(f"/polls/{poll_id}/results/").content.decode())
    return page[page.index("<main") : page.index("</main>")]


def test_a_certified_choice_items_threshold_is_read_from_its_record_in_every_language() -> None:
    cede = make_user(username="cede", email="cede@example.com")
    register = make_register([("H-CEDE", "Cede & Co", "cede@example.com", 15_000)], outstanding=20_000)
    item = make_annual_item(make_meeting(register), "choice", options=["Red", "Blue"], threshold="1/2")
    red = Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True)[0]
    item_lines_cast(poll_id=item.pk, actor=cede, data={"option": red})
    services.poll_close(poll=item)
    secretary = make_secretary()
    certification.poll_certify(poll=item, actor=secretary)
    english, italian = Client(), Client(HTTP_ACCEPT_LANGUAGE="it")
    before = _main(english, item.pk), _main(italian, item.pk)
    assert "more than 1/2 of the votes cast" in before[0]
    assert "più di 1/2" in before[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE polls_poll SET threshold_numerator = 3, threshold_denominator = 4, threshold_comparator = '>='"
            " WHERE id = %s",
            [item.pk],
        )
    assert (_main(english, item.pk), _main(italian, item.pk)) == before
    # The Item 5.07 export says the rule in words, as the page does.
    english.force_login(secretary)
    assert item.meeting_id is not None
    export = english.get(f"/meetings/{item.meeting_id}/results.csv").content.decode()
    assert "threshold more than 1/2 of the votes cast" in export
    assert "> 1/2" not in export and "3/4" not in export
