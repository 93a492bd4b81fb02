"""The interface in Italian: chosen by the browser's Accept-Language or the switcher, with
numbers and dates in the reader's locale."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from meetings.services import holders_link_user, item_ballot_cast
from polls.ballots import ballot_cast
from polls.models import PollStatus
from proposals import review_votes
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
    holders_link_user(user=holder)
    item_ballot_cast(poll_id=item.pk, actor=holder, choice="for", holder_id=register.holders.get().pk)
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
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=option.pk)
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
    from core.models import Profile

    reader = make_user(username="lettore")
    Profile.objects.create(user=reader, language="it")
    browser = Client()
    response = browser.post("/accounts/login/", {"username": "lettore", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "it"
    assert '<html lang="it">' in browser.get("/").content.decode()


# --- Plural forms and date formats, in both languages ----------------------------------------


def render(source: str, language: str, **context: object) -> str:
    from django.template import Context, Template
    from django.utils import translation

    with translation.override(language):
        return Template("{% load i18n %}" + source).render(Context(context)).strip()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("it", "6 novembre 2025"),
        ("en", "6 Nov 2025"),
    ],
)
def test_a_date_reads_as_the_language_writes_it(language: str, expected: str) -> None:
    import datetime

    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override(language):
        assert date_format(datetime.date(2025, 11, 6), "DATE_FORMAT") == expected
        assert date_format(datetime.datetime(2025, 11, 6, 17, 5), "DATETIME_FORMAT").startswith(expected)


def test_italian_months_are_lower_case_and_days_unpadded_in_every_date_format() -> None:
    import datetime

    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override("it"):
        shown = [date_format(datetime.date(2026, 1, 3), fmt) for fmt in ("DATE_FORMAT", "YEAR_MONTH_FORMAT")]
        shown.append(date_format(datetime.datetime(2026, 1, 3, 9, 0), "DATETIME_FORMAT"))
        shown.append(date_format(datetime.date(2026, 1, 3), "MONTH_DAY_FORMAT"))
        shown.append(date_format(datetime.datetime(2026, 1, 3, 9, 0), "SHORT_DATETIME_FORMAT"))
    assert shown == ["3 gennaio 2026", "gennaio 2026", "3 gennaio 2026, 09:00", "3 gennaio", "3 gennaio 2026, 09:00"]


TALLY = '{% include "proposals/_tally.html" with so_far=so_far %}'


@pytest.mark.parametrize(
    ("language", "votes", "so_far", "expected"),
    [
        ("it", (1, 1, 0, 1, 4), False, "1 approva, 1 respinge, 1 si astiene su 4 amministratori non in conflitto"),
        ("it", (2, 3, 0, 2, 1), False, "2 approvano, 3 respingono, 2 si astengono su 1 amministratore non in"),
        ("it", (0, 1, 1, 0, 5), True, "Finora: 0 approvano, 1 respinge, 1 rimette agli azionisti, 0 si astengono"),
        ("en", (1, 1, 0, 1, 1), False, "1 approves, 1 rejects, 1 abstains of 1 disinterested director."),
        ("en", (2, 0, 2, 3, 5), True, "So far: 2 approve, 0 reject, 2 refer, 3 abstain of 5 directors who may vote."),
    ],
)
def test_the_boards_tally_agrees_with_each_number(
    language: str, votes: tuple[int, int, int, int, int], so_far: bool, expected: str
) -> None:
    approve, reject, refer, abstain, disinterested = votes
    tally = {"approve": approve, "reject": reject, "refer": refer, "abstain": abstain, "disinterested": disinterested}
    assert expected in render(TALLY, language, tally=tally, so_far=so_far)


@pytest.mark.parametrize(
    ("language", "ballots", "expected"),
    [
        ("it", 1, "Ha votato 1 azionista su 3"),
        ("it", 2, "Hanno votato 2 azionisti su 3"),
        ("en", 1, "1 of 3 holders voted"),
    ],
)
def test_the_turnout_line_agrees_with_the_number_of_voters(language: str, ballots: int, expected: str) -> None:
    source = (
        "{% blocktranslate count voted=ballots with ballots=ballots eligible=3 %}{{ ballots }} of {{ eligible }} "
        "holders voted{% plural %}{{ ballots }} of {{ eligible }} holders voted{% endblocktranslate %}"
    )
    assert render(source, language, ballots=ballots) == expected


def test_a_lone_eligible_director_is_singular_in_italian() -> None:
    source = (
        "{% blocktranslate count count=n %}Only {{ count }} director may vote: quorum cannot be reached, and at the "
        "due date the proposal is rejected for want of quorum.{% plural %}Only {{ count }} directors may vote: quorum "
        "cannot be reached, and at the due date the proposal is rejected for want of quorum.{% endblocktranslate %}"
    )
    assert render(source, "it", n=1).startswith("Solo 1 amministratore può votare")
    assert render(source, "it", n=2).startswith("Solo 2 amministratori possono votare")


def test_the_directors_vote_column_is_a_noun_and_the_ballot_button_a_verb() -> None:
    column = '{% translate "Vote" context "a director\'s vote, column heading" %}'
    assert render(column, "it") == "Voto"
    assert render('{% translate "Vote" %}', "it") == "Vota"
    assert render("{% translate 'What you can do' %}", "it") == "Cosa puoi fare"


def test_a_director_reads_the_board_in_natural_italian() -> None:
    from tests.factories import make_director, make_proposal, start_review

    robyn = make_director("robyn")
    make_director("kimbal")
    proposal = start_review(make_proposal(), make_secretary())
    review_votes.review_vote_cast(proposal_id=proposal.pk, actor=robyn.user, decision="approve", comment="")
    client = italian()
    client.force_login(robyn.user)
    page = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert '<th scope="col">Voto</th>' in page
    assert "1 approva, 0 respingono, 0 si astengono su 2 amministratori" in page


def test_every_italian_entry_keeps_the_placeholders_of_its_english_source() -> None:
    import re

    from babel.messages.pofile import read_po

    with (CATALOGUE / "django.po").open("rb") as source:
        catalogue = read_po(source)
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]")
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = [str(text) for text in (message.id if isinstance(message.id, tuple | list) else (message.id,))]
        strings = [
            str(text or "")
            for text in (message.string if isinstance(message.string, tuple | list) else (message.string,))
        ]
        wanted = set(placeholder.findall(ids[0])) | set(placeholder.findall(ids[-1]))
        for text in strings:
            # A singular may drop the number ("un errore"), never add or rename a placeholder.
            if not text or not set(placeholder.findall(text)) <= wanted:
                problems.append(ids[0])
    assert not problems, problems


@pytest.mark.parametrize(
    ("language", "shares", "expected"),
    [
        ("it", 1, "Alice (1 azione)"),
        ("it", 1_200, "Alice (1.200 azioni)"),
        ("en", 1, "Alice (1 share)"),
        ("en", 1_200, "Alice (1,200 shares)"),
    ],
)
def test_a_holding_on_the_ballot_agrees_with_its_shares(language: str, shares: int, expected: str) -> None:
    source = (
        "{% load humanize_shares %}{% blocktranslate count count=n with name='Alice' shares=n|shares %}"
        "{{ name }} ({{ shares }} share){% plural %}{{ name }} ({{ shares }} shares){% endblocktranslate %}"
    )
    assert render(source, language, n=shares) == expected


def test_a_board_of_one_reads_in_the_singular() -> None:
    source = (
        "{% blocktranslate count base=n with quorum=1 %}Quorum: {{ quorum }} of {{ base }} director in office."
        "{% plural %}Quorum: {{ quorum }} of {{ base }} directors in office.{% endblocktranslate %}"
    )
    assert render(source, "it", n=1) == "Quorum: 1 su 1 amministratore in carica."
    assert render(source, "it", n=5) == "Quorum: 1 su 5 amministratori in carica."
    assert render(source, "en", n=1) == "Quorum: 1 of 1 director in office."
