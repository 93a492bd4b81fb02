"""The results page of an election, frequency or choice item (issue 14, Results): per nominee
for, against or withheld, abstain, broker non-votes, percent and elected, per option the shares
and the winner, each as a bar chart hidden from screen readers and as the table they read. The
page's part is the ballot form's (results_template); its figures come from the running totals or
the frozen record, never from counting ballots."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from meetings.attendance import attendance_check_in
from meetings.ballot_models import NomineeTally
from meetings.ballot_services import item_lines_cast, lines_tabulation_record
from meetings.models import Meeting
from polls import certification, services
from polls.models import Option, Poll, PollStatus
from tests.factories import make_annual_item, make_item, make_meeting, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

HOLDERS = [("cede", 10_000), *((f"h{n}", 100) for n in range(1, 6))]


@pytest.fixture
def users() -> dict[str, Any]:
    return {name: make_user(username=name, email=f"{name}@example.com") for name, _shares in HOLDERS}


@pytest.fixture
def meeting(users: dict[str, Any]) -> Meeting:
    rows: list[tuple[str, str, str, int | str]] = [
        (f"H-{name}", name.title(), f"{name}@example.com", shares) for name, shares in HOLDERS
    ]
    return make_meeting(make_register(rows, outstanding=20_000))


def _ids(item: Poll) -> list[int]:
    return list(Option.objects.filter(poll=item).order_by("position").values_list("pk", flat=True))


def _main(client: Client, item: Poll, language: str = "en") -> str:
    response = client.get(f"/polls/{item.pk}/results/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    return page[page.index("<main") : page.index("</main>")]


def _table(page: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption, cell by cell, as text."""
    table = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", page, flags=re.S)
    assert table is not None, caption
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), flags=re.S)
    return [
        [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in rows
    ]


def _bars(page: str) -> list[tuple[str, str, str]]:
    """The chart: (label, SVG width, shown value) per bar, from a figure hidden from screen readers."""
    figure = re.search(r'<figure class="bars[^"]*" aria-hidden="true">(.*?)</figure>', page, flags=re.S)
    assert figure is not None
    bar = r'<span class="bar-label">(.*?)</span>.*?<rect class="fill" width="([^"]*)".*?'
    return re.findall(bar + r'<span class="bar-value">(.*?)</span>', figure.group(1), flags=re.S)


def _quorum_present(meeting: Meeting, users: dict[str, Any]) -> None:
    """Cede & Co and one more holder check in: 10,100 of 20,000 shares, more than half. Without
    quorum an election elects nobody and no option wins, which is not what these tests are about."""
    for name in ("cede", "h1"):
        holder = meeting.register.holders.get(account=f"H-{name}")
        attendance_check_in(meeting=meeting, holder_id=holder.pk, actor=users[name])


def _majority(meeting: Meeting, users: dict[str, Any], **fields: Any) -> Poll:
    item = make_annual_item(
        meeting, "election", nominees=["Ada Lovelace", "Bob Failing"], election_standard="majority", **fields
    )
    ada, bob = _ids(item)
    split = {
        str(ada): {"for": "7000", "against": "2000", "abstain": "1000"},
        str(bob): {"for": "3000", "against": "6000", "abstain": "1000"},
    }
    item_lines_cast(poll_id=item.pk, actor=users["cede"], data={"splits": split})
    item_lines_cast(poll_id=item.pk, actor=users["h1"], data={"votes": {str(ada): "for", str(bob): "against"}})
    return item


def test_a_majority_election_shows_each_nominee_in_a_table_and_a_chart(
    meeting: Meeting, users: dict[str, Any], client: Client
) -> None:
    item = _majority(meeting, users, results_visibility="live")
    page = _main(client, item)
    assert _table(page, "Votes by nominee") == [
        ["Nominee", "For", "Against", "Abstain", "Broker non-votes", "Percent for", "Result so far"],
        ["Ada Lovelace", "7,100", "2,000", "1,000", "0", "78.0%", "Elected"],
        [
            "Bob Failing",
            "3,000",
            "6,100",
            "1,000",
            "0",
            "33.0%",
            "Not elected: resignation tendered under the majority-voting policy",
        ],
    ]
    assert _bars(page) == [("Ada Lovelace", "78.0", "78.0%"), ("Bob Failing", "33.0", "33.0%")]
    assert "Majority voting: a nominee is elected with more votes for than against" in page
    assert "Votes by option" not in page  # the engine's table gives way to the form's


def test_a_plurality_tie_at_the_last_seat_is_reported_as_a_tie(meeting: Meeting, users: dict[str, Any]) -> None:
    item = make_annual_item(
        meeting,
        "election",
        nominees=["Cy Young", "Di Tied", "Ed Tied"],
        election_standard="plurality",
        seats=2,
    )
    cy, di, ed = _ids(item)
    split = {
        str(cy): {"for": "6000", "withhold": "1000"},
        str(di): {"for": "4000", "withhold": "3000"},
        str(ed): {"for": "4000", "withhold": "2000"},
    }
    item_lines_cast(poll_id=item.pk, actor=users["cede"], data={"splits": split})
    _quorum_present(meeting, users)
    services.poll_close(poll=item)
    page = _main(Client(), item)
    assert _table(page, "Votes by nominee") == [
        ["Nominee", "For", "Withheld", "Broker non-votes", "Percent for", "Result"],
        ["Cy Young", "6,000", "1,000", "0", "85.7%", "Elected"],
        ["Di Tied", "4,000", "3,000", "0", "57.1%", "Not elected: tied for the last seat"],
        ["Ed Tied", "4,000", "2,000", "0", "66.7%", "Not elected: tied for the last seat"],
    ]
    assert "the 2 nominees with most votes for are elected" in page
    assert [label for label, _w, _v in _bars(page)] == ["Cy Young", "Di Tied", "Ed Tied"]


def test_a_tabulated_election_shows_its_broker_non_votes(meeting: Meeting, users: dict[str, Any]) -> None:
    _quorum_present(meeting, users)  # before the item closes: attendance is fixed from then on
    item = make_annual_item(
        meeting, "election", status=PollStatus.CLOSED, nominees=["Ada", "Bob"], election_standard="majority"
    )
    ada, bob = _ids(item)
    lines = [
        {"option": ada, "choice": "for", "shares": 2_000},
        {"option": ada, "choice": "against", "shares": 500},
        {"option": bob, "choice": "for", "shares": 900},
        {"option": bob, "choice": "against", "shares": 1_600},
        {"option": bob, "choice": "abstain", "shares": 100},
    ]
    lines_tabulation_record(poll=item, actor=make_secretary(), lines=lines, broker_non_votes=321, source="Inspector")
    assert _table(_main(Client(), item), "Votes by nominee")[1:] == [
        ["Ada", "2,000", "500", "0", "321", "80.0%", "Elected"],
        [
            "Bob",
            "900",
            "1,600",
            "100",
            "321",
            "36.0%",
            "Not elected: resignation tendered under the majority-voting policy",
        ],
    ]


def test_a_certified_election_is_read_from_its_record(meeting: Meeting, users: dict[str, Any]) -> None:
    item = _majority(meeting, users)
    services.poll_close(poll=item)
    certification.poll_certify(poll=item, actor=make_secretary())
    before = _table(_main(Client(), item), "Votes by nominee")
    NomineeTally.objects.filter(option__poll=item).update(against_shares=0, abstain_shares=0)
    Option.objects.filter(poll=item).update(weight=1)
    assert _table(_main(Client(), item), "Votes by nominee") == before
    assert before[2][1:3] == ["3,000", "6,100"]


def test_the_results_page_counts_no_ballots(meeting: Meeting, users: dict[str, Any]) -> None:
    """O(1) in ballots: the page reads the running totals, so more ballots add no query."""
    item = make_annual_item(meeting, "election", nominees=["Ada", "Bob"], election_standard="majority")
    ada, bob = _ids(item)
    item.results_visibility = "live"
    item.save(update_fields=["results_visibility"])
    client = Client()
    item_lines_cast(poll_id=item.pk, actor=users["h1"], data={"votes": {str(ada): "for", str(bob): "abstain"}})
    client.get(f"/polls/{item.pk}/results/")  # warm the caches
    with CaptureQueriesContext(connection) as one:
        client.get(f"/polls/{item.pk}/results/")
    for name in ("h2", "h3", "h4", "h5", "cede"):
        item_lines_cast(poll_id=item.pk, actor=users[name], data={"votes": {str(ada): "against", str(bob): "for"}})
    with CaptureQueriesContext(connection) as six:
        page = html.unescape(client.get(f"/polls/{item.pk}/results/").content.decode())
    assert len(six) == len(one)
    assert not any("meetings_ballotline" in query["sql"] for query in six.captured_queries)
    assert "10,400" in page  # Cede's and four holders' against on Ada


def test_a_frequency_item_names_its_winner_and_its_share(meeting: Meeting, users: dict[str, Any]) -> None:
    item = make_annual_item(meeting, "frequency")
    one, two, three, abstain = _ids(item)
    split = {str(one): "6000", str(two): "500", str(three): "2500", str(abstain): "1000"}
    item_lines_cast(poll_id=item.pk, actor=users["cede"], data={"splits": split})
    item_lines_cast(poll_id=item.pk, actor=users["h1"], data={"option": three})
    services.poll_close(poll=item)
    page = _main(Client(), item)
    assert _table(page, "Shares by option") == [
        ["Option", "Shares", "Percent"],
        ["1 year", "6,000", "59.4%"],
        ["2 years", "500", "5.0%"],
        ["3 years", "2,600", "25.7%"],
        ["Abstain", "1,000", "9.9%"],
        ["Total", "10,100", "100.0%"],
    ]
    assert re.search(r"<dt>Winner</dt>\s*<dd><strong>1 year</strong>, 65\.9% of the votes cast</dd>", page)
    assert "The vote is advisory." in page
    assert [bar[:2] for bar in _bars(page)] == [
        ("1 year", "59.4"),
        ("2 years", "5.0"),
        ("3 years", "25.7"),
        ("Abstain", "9.9"),
    ]


def test_a_choice_short_of_its_threshold_has_no_winner(meeting: Meeting, users: dict[str, Any]) -> None:
    item = make_annual_item(meeting, "choice", options=["Austin", "Palo Alto", "Reno"], threshold="1/2")
    austin, palo_alto, reno = _ids(item)
    split = {str(austin): "4000", str(palo_alto): "3500", str(reno): "2500"}
    item_lines_cast(poll_id=item.pk, actor=users["cede"], data={"splits": split})
    _quorum_present(meeting, users)
    services.poll_close(poll=item)
    page = _main(Client(), item)
    assert "None: the leading option has 40.0% of the votes cast, short of the threshold." in page
    assert re.search(r"<dt>Threshold</dt>\s*<dd>more than 1/2 of the votes cast: <strong>not met</strong>", page)
    assert 'class="winner"' not in page


def test_a_choice_reaching_its_threshold_wins(meeting: Meeting, users: dict[str, Any]) -> None:
    item = make_annual_item(meeting, "choice", options=["Austin", "Reno"], threshold="1/2")
    austin, _reno = _ids(item)
    item_lines_cast(poll_id=item.pk, actor=users["cede"], data={"option": austin})
    _quorum_present(meeting, users)
    services.poll_close(poll=item)
    page = _main(Client(), item)
    assert re.search(r"<dd><strong>Austin</strong>, 100\.0% of the votes cast</dd>", page)
    assert re.search(r"<dd>more than 1/2 of the votes cast: met</dd>", page)


def test_the_page_is_in_the_readers_language(meeting: Meeting, users: dict[str, Any]) -> None:
    item = _majority(meeting, users)
    services.poll_close(poll=item)
    page = _main(Client(), item, "it")
    rows = _table(page, "Voti per candidato")
    assert rows[0] == [
        "Candidato",
        "Favorevoli",
        "Contrari",
        "Astenuti",
        "Non-voti degli intermediari",
        "Percentuale favorevoli",
        "Esito",
    ]
    assert rows[2] == [
        "Bob Failing",
        "3.000",
        "6.100",
        "1.000",
        "0",
        "33,0%",
        "Non eletto: dimissioni rassegnate secondo la politica del voto a maggioranza",
    ]
    # The chart's lengths are SVG numbers, whatever the reader's number format.
    assert _bars(page)[1] == ("Bob Failing", "33.0", "33,0%")


def test_a_proposal_keeps_the_engines_results(meeting: Meeting) -> None:
    item = make_item(meeting, status=PollStatus.CLOSED)
    page = _main(Client(), item)
    assert "<caption>Shares by choice" in page
    assert "Votes by nominee" not in page
