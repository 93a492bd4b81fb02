"""Moving the running totals of a ballot of lines: the options' own counters (`for`), the
nominees' tallies (against or withheld, abstain), the item's shares voted and its ballot count.

On PostgreSQL all of it is one statement, whatever the number of nominees: a ballot on a
ten-nominee election would otherwise make a dozen round trips while holding the rows every other
voter of the item waits for. Each table's rows are taken in one UPDATE ... FROM (VALUES ...), so
every ballot locks them in the same plan order. Elsewhere (SQLite, which serialises writers and
has no data-modifying WITH) the same moves are plain F() updates."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection
from django.db.models import F

from meetings.ballot_models import ItemTerms, NomineeTally
from meetings.ballot_rules import Line, LineChoice, line_deltas
from polls.models import Option, Poll

# The tally columns moved by each choice other than `for` (which moves the option's own counters).
TALLY_COLUMNS = {
    LineChoice.AGAINST: ("against_ballots", "against_shares"),
    LineChoice.WITHHOLD: ("against_ballots", "against_shares"),
    LineChoice.ABSTAIN: ("abstain_ballots", "abstain_shares"),
}


def _split(deltas: Mapping[Line, tuple[int, int]]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Per option: [ballots, shares] for `for`; [against ballots, shares, abstain ballots, shares]."""
    chosen: dict[int, list[int]] = {}
    tallied: dict[int, list[int]] = {}
    for (option, choice), (ballots, shares) in deltas.items():
        if choice == LineChoice.FOR:
            chosen[option] = [ballots, shares]
            continue
        row = tallied.setdefault(option, [0, 0, 0, 0])
        offset = 2 if choice == LineChoice.ABSTAIN else 0
        row[offset] += ballots
        row[offset + 1] += shares
    return chosen, tallied


def counters_move(
    *, poll_id: int, old: Mapping[Line, int], new: Mapping[Line, int], weight_delta: int, ballots_delta: int
) -> None:
    chosen, tallied = _split(line_deltas(old, new))
    if connection.vendor == "postgresql":
        _move_in_one_statement(poll_id, chosen, tallied, weight_delta, ballots_delta)
        return
    for option, (ballots, shares) in sorted(chosen.items()):
        Option.objects.filter(pk=option).update(votes=F("votes") + ballots, weight=F("weight") + shares)
    for option, (a_n, a_w, x_n, x_w) in sorted(tallied.items()):
        NomineeTally.objects.filter(option_id=option).update(
            against_ballots=F("against_ballots") + a_n,
            against_shares=F("against_shares") + a_w,
            abstain_ballots=F("abstain_ballots") + x_n,
            abstain_shares=F("abstain_shares") + x_w,
        )
    if weight_delta:
        ItemTerms.objects.filter(poll_id=poll_id).update(shares_voted=F("shares_voted") + weight_delta)
    if ballots_delta:
        Poll.objects.filter(pk=poll_id).update(ballot_count=F("ballot_count") + ballots_delta)


def _values(rows: dict[int, list[int]], width: int) -> tuple[str, list[int]]:
    """A VALUES list of bigints, and its parameters; one row of zeros (id 0) when empty."""
    items = sorted(rows.items()) or [(0, [0] * width)]
    placeholders = ", ".join("(" + ", ".join(["%s::bigint"] * (width + 1)) + ")" for _ in items)
    return placeholders, [value for option, figures in items for value in (option, *figures)]


def _move_in_one_statement(
    poll_id: int, chosen: dict[int, list[int]], tallied: dict[int, list[int]], weight_delta: int, ballots_delta: int
) -> None:
    chosen_values, chosen_params = _values(chosen, 2)
    tallied_values, tallied_params = _values(tallied, 4)
    option, tally, terms, poll = (
        Option._meta.db_table,
        NomineeTally._meta.db_table,
        ItemTerms._meta.db_table,
        Poll._meta.db_table,
    )
    sql = f"""
        WITH chosen AS (
            UPDATE {option} AS o SET votes = o.votes + d.n, weight = o.weight + d.w
            FROM (VALUES {chosen_values}) AS d (id, n, w) WHERE o.id = d.id RETURNING 1
        ), tallied AS (
            UPDATE {tally} AS t SET
                against_ballots = t.against_ballots + d.an, against_shares = t.against_shares + d.aw,
                abstain_ballots = t.abstain_ballots + d.xn, abstain_shares = t.abstain_shares + d.xw
            FROM (VALUES {tallied_values}) AS d (id, an, aw, xn, xw) WHERE t.option_id = d.id RETURNING 1
        ), voted AS (
            UPDATE {terms} SET shares_voted = shares_voted + %s WHERE poll_id = %s AND %s <> 0 RETURNING 1
        )
        UPDATE {poll} SET ballot_count = ballot_count + %s WHERE id = %s AND %s <> 0
    """  # noqa: S608 - table names are the models'; every value is a parameter
    params = [*chosen_params, *tallied_params, weight_delta, poll_id, weight_delta]
    params += [ballots_delta, poll_id, ballots_delta]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
