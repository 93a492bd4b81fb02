"""A meeting's certified results as Form 8-K Item 5.07 reports them: a header (the company, the
meeting, its date), then one table per kind of item: a row per proposal, a row per nominee and
the say-on-pay frequency table, each with broker non-votes. The CSV export and the printable page
render the same tables. Only certified items appear, read from their frozen records
(polls.results.poll_results), so the report costs one query plus one row per item, whatever the
number of ballots, and never shows a figure that is not final."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.csv_safe import SafeWriter
from meetings.models import Meeting
from polls.models import Comparator, Poll, PollStatus
from polls.results import PollResults, poll_results

# The frequency options as stored (in English, as the filings name them), in the table's order.
FREQUENCY_LABELS = ("1 Year", "2 Years", "3 Years", "Abstain")


@dataclass(frozen=True)
class Cell:
    """A number (shares or votes, written whole) or a text; neither means an empty cell (an
    abstention column an election under plurality voting does not have)."""

    number: int | None = None
    text: str = ""

    @property
    def value(self) -> int | str:
        return self.number if self.number is not None else self.text


@dataclass(frozen=True)
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    company: str
    meeting: Meeting
    date: datetime.date
    tables: list[Table]


def _n(value: object) -> Cell:
    return Cell(number=None if value is None or value == "" else int(str(value)))


def _t(text: str) -> Cell:
    return Cell(text=text)


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def nominee_result_text(status: str) -> str:
    """A nominee's result in words (the results record keeps a code)."""
    texts = {
        "elected": _("Elected"),
        "resignation_tendered": _("Not elected: resignation tendered under the majority-voting policy"),
        "tied": _("Not elected: tied for the last seat"),
        "not_elected": _("Not elected"),
        "no_quorum": _("Not elected: no quorum"),
    }
    return texts.get(status, status)


def _proposal_result(results: PollResults) -> str:
    outcome = results.outcome
    if outcome is None:
        return ""
    if outcome.reason == "no quorum":
        text = _("Not approved: no quorum")
    else:
        text = _("Approved") if outcome.passed else _("Not approved")
    return _("%(result)s (advisory)") % {"result": text} if outcome.advisory else text


def _title(item: Poll, results: PollResults) -> str:
    # The title as certified (older records did not keep it).
    return str(((results.record or {}).get("certification") or {}).get("title", item.title))


def _proposal_rows(item: Poll, results: PollResults) -> list[list[Cell]]:
    totals = results.totals
    figures: list[int | None] = (
        [totals.for_, totals.against, totals.abstain, totals.broker_non_votes] if totals else [None] * 4
    )
    return [[_t(_title(item, results)), *(_n(value) for value in figures), _t(_proposal_result(results))]]


def _nominee_rows(item: Poll, results: PollResults) -> list[list[Cell]]:
    rows = []
    for nominee in results.extra.get("nominees", []):
        against = nominee["against"] if nominee["against"] is not None else nominee["withheld"]
        rows.append(
            [
                _t(_title(item, results)),
                _t(nominee["name"]),
                _n(nominee["for"]),
                _n(against),
                _n(nominee["abstain"]),
                _n(nominee["broker_non_votes"]),
                _t(yes_no(nominee["elected"])),
                _t(nominee_result_text(nominee["status"])),
            ]
        )
    return rows


def _percent(value: object) -> str:
    return "" if value is None else number_format(Decimal(str(value)))


def _decision_text(item: Poll, results: PollResults) -> str:
    """The winner of a frequency or choice item and its share of the votes cast, or why none."""
    decision = results.extra.get("decision") or {}
    form = item.ballot_form
    parts = []
    if results.winner is not None:
        parts.append(
            _("%(option)s wins with %(percent)s%% of the votes cast")
            % {"option": form.option_label(results.winner.label), "percent": _percent(decision.get("percent"))}
        )
    elif decision.get("reason") == "no quorum":
        parts.append(_("No winner: no quorum"))
    elif results.tied:
        parts.append(
            _("Tie between %(options)s") % {"options": ", ".join(form.option_label(o.label) for o in results.tied)}
        )
    elif decision.get("threshold_met") is False:
        parts.append(_("No option reaches the threshold"))
    else:
        parts.append(_("No votes cast"))
    if decision.get("threshold"):
        parts.append(
            _("threshold %(threshold)s of the votes cast: %(met)s")
            % {
                "threshold": " ".join(threshold_parts(decision["threshold"])),
                "met": yes_no(bool(decision.get("threshold_met"))),
            }
        )
    if decision.get("advisory"):
        parts.append(_("advisory"))
    return "; ".join(parts)


def threshold_parts(recorded: object) -> tuple[str, str]:
    """A decision's threshold as recorded ("> 1/2", ">= 2/3") -> (its comparator in the reader's
    words, its fraction): ("more than", "1/2")."""
    comparator, _blank, fraction = str(recorded).partition(" ")
    return str(dict(Comparator.choices).get(comparator, comparator)), fraction


def _frequency_rows(item: Poll, results: PollResults) -> list[list[Cell]]:
    votes = {option.label: option.weight for option in results.options}
    decision = results.extra.get("decision") or {}
    return [
        [
            _t(_title(item, results)),
            *(_n(votes.get(label, 0)) for label in FREQUENCY_LABELS),
            _n(decision.get("broker_non_votes", 0)),
            _t(_decision_text(item, results)),
        ]
    ]


def _choice_rows(item: Poll, results: PollResults) -> list[list[Cell]]:
    decision = results.extra.get("decision") or {}
    winner = results.winner.id if results.winner is not None else None
    # The item's result once, on its first row.
    return [
        [
            _t(_title(item, results)),
            _t(item.ballot_form.option_label(option.label)),
            _n(option.weight),
            _n(decision.get("broker_non_votes", 0)),
            _t(yes_no(option.id == winner)),
            _t("" if position else _decision_text(item, results)),
        ]
        for position, option in enumerate(results.options)
    ]


def _tables() -> dict[str, tuple[Table, Callable[[Poll, PollResults], list[list[Cell]]]]]:
    """The report's tables in their order, by the ballot form whose items fill them (the form's
    API name), each with what makes an item's rows. Built per call: the words are the reader's."""
    proposal, nominee, result = _("Proposal"), _("Nominee"), _("Result")
    # Columns of counts: "Favorevoli", not a ballot's "Favorevole".
    for_, against = pgettext("votes column", "For"), pgettext("votes column", "Against")
    abstain, broker = pgettext("votes column", "Abstain"), _("Broker Non-Votes")
    frequency = [_("1 Year"), _("2 Years"), _("3 Years")]
    return {
        "proposal": (
            Table(_("Proposals"), [proposal, for_, against, abstain, broker, result]),
            _proposal_rows,
        ),
        "election": (
            Table(
                _("Election of directors"),
                [proposal, nominee, for_, _("Against or Withheld"), abstain, broker, _("Elected"), result],
            ),
            _nominee_rows,
        ),
        "frequency": (
            Table(_("Frequency of the say-on-pay vote"), [proposal, *frequency, abstain, broker, result]),
            _frequency_rows,
        ),
        "choice": (
            Table(_("Multiple choice"), [proposal, _("Option"), _("Votes"), broker, _("Winner"), result]),
            _choice_rows,
        ),
    }


def certified_items(meeting: Meeting) -> list[Poll]:
    return list(meeting.items.filter(status=PollStatus.CERTIFIED).order_by("id"))


def report(meeting: Meeting) -> Report:
    """The meeting's Item 5.07 tables in the active language; a table no item fills is left out."""
    tables = _tables()
    for item in certified_items(meeting):
        entry = tables.get(item.ballot_form.form_name or "")
        if entry is not None:
            table, rows_of = entry
            table.rows.extend(rows_of(item, poll_results(poll=item)))
    return Report(
        company=settings.COMPANY_NAME,
        meeting=meeting,
        date=meeting.date,
        tables=[table for table, _rows in tables.values() if table.rows],
    )


def csv_rows(data: Report) -> Iterator[list[Any]]:
    """The report as CSV rows: the header block, then each table after a blank line."""
    yield [_("Company"), data.company]
    yield [_("Meeting"), data.meeting.title]
    yield [_("Date"), data.date.isoformat()]
    for table in data.tables:
        yield []
        yield list(table.columns)
        for row in table.rows:
            yield [cell.value for cell in row]


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def csv_write(target: _Writable, meeting: Meeting) -> None:
    """The export, in English as the filing is, whatever the reader's language; formula-safe."""
    with translation.override("en"):
        SafeWriter(target).writerows(csv_rows(report(meeting)))
