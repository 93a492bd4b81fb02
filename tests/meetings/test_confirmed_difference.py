"""A tabulation difference the secretary confirms is the one they saw: figures entered again
between the certify page (or the API's 409) and the confirmation are not certified."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from meetings.services import tabulation_record
from polls.models import Poll, PollStatus
from tests.factories import make_item, make_meeting, make_split_register
from tests.meetings.test_final_certification import _record, _tabulate, _vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def item() -> Poll:
    """An open item of 7,123 shares for and 3,456 against, as in test_final_certification."""
    item = make_item(make_meeting(make_split_register(), quorum="2/3"), results_visibility="after_close")
    _vote(item)
    return item


def test_the_console_certifies_a_difference_only_with_the_box_ticked(
    item: Poll, secretary: Any, browser: Client
) -> None:
    _tabulate(item, secretary)
    refused = browser.post(f"/console/polls/{item.pk}/certify/", {})
    assert refused.status_code == 409
    item.refresh_from_db()
    assert item.status == PollStatus.CLOSED
    accepted = browser.post(f"/console/polls/{item.pk}/certify/", {"confirm_difference": "on", **shown(item, browser)})
    assert accepted.status_code == 302
    item.refresh_from_db()
    assert _record(item)["certification"]["confirmed_difference"]["by"] == secretary.get_username()


def shown(item: Poll, browser: Client) -> dict[str, str]:
    """The difference's digest as the certify page carries it beside the box."""
    page = browser.get(f"/console/polls/{item.pk}/certify/").content.decode()
    marker = 'name="difference_digest" value="'
    start = page.index(marker) + len(marker)
    return {"difference_digest": page[start : page.index('"', start)]}


def test_a_box_ticked_for_one_difference_does_not_certify_figures_entered_again_since(
    item: Poll, secretary: Any, browser: Client
) -> None:
    _tabulate(item, secretary)
    seen = shown(item, browser)
    # Meanwhile (another tab, another secretary, the API) the figures are entered again.
    tabulation_record(poll=item, shares_for=9_500, shares_against=1_000, shares_abstain=0, actor=secretary)
    stale = browser.post(f"/console/polls/{item.pk}/certify/", {"confirm_difference": "on", **seen}, follow=True)
    assert stale.status_code == 409
    page = html.unescape(stale.content.decode())
    assert "entered again since the difference you confirmed" in page and "For +2,377" in page
    item.refresh_from_db()
    assert item.status == PollStatus.CLOSED
    # The page now shows the new difference, whose confirmation certifies.
    accepted = browser.post(f"/console/polls/{item.pk}/certify/", {"confirm_difference": "on", **shown(item, browser)})
    assert accepted.status_code == 302
    item.refresh_from_db()
    assert _record(item)["certification"]["confirmed_difference"]["lines"][0]["tabulated"] == "9500"


def test_the_api_binds_a_confirmation_to_the_409s_difference_digest(
    item: Poll, secretary: Any, api_secretary: APIClient
) -> None:
    _tabulate(item, secretary)
    url = f"/api/v1/polls/{item.pk}/certify/"
    digest = api_secretary.post(url, {}, format="json").json()["difference_digest"]
    tabulation_record(poll=item, shares_for=9_500, shares_against=1_000, shares_abstain=0, actor=secretary)
    stale = api_secretary.post(url, {"confirm_difference": True, "difference_digest": digest}, format="json")
    assert stale.status_code == 409
    assert stale.json()["difference_digest"] != digest
    assert api_secretary.post(url, {"difference_digest": "not a digest"}, format="json").status_code == 400
    item.refresh_from_db()
    assert item.status == PollStatus.CLOSED
    fresh = {"confirm_difference": True, "difference_digest": stale.json()["difference_digest"]}
    assert api_secretary.post(url, fresh, format="json").status_code == 200


def test_the_schema_describes_the_certify_409_with_its_difference_digest(client: Client) -> None:
    schema = client.get("/api/v1/schema/?format=json").json()
    conflict = schema["paths"]["/api/v1/polls/{id}/certify/"]["post"]["responses"]["409"]
    name = conflict["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][name]["properties"]) == {"detail", "difference_digest"}
