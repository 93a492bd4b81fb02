"""Files on which PostgreSQL's COPY and the Python line reader could read a cell differently:
each must import, or be refused, the same on every database (the suite runs on both)."""

from __future__ import annotations

import datetime
import io

import pytest

from meetings.models import Holder, RegisterSnapshot
from meetings.register_import import register_import
from polls.exceptions import RegisterInvalid

pytestmark = pytest.mark.django_db

HEADER = "holder,name,email,shares\n"


def imported(text: str, outstanding: int = 10**6) -> RegisterSnapshot:
    return register_import(
        source=io.BytesIO(text.encode()),
        record_date=datetime.date(2025, 9, 15),
        shares_outstanding=outstanding,
        actor=None,
    )


def refused(text: str, outstanding: int = 10**6) -> list[str]:
    with pytest.raises(RegisterInvalid) as raised:
        imported(text, outstanding)
    assert not Holder.objects.exists()
    return list(raised.value.errors)


@pytest.mark.parametrize("blank", [",,,", " , , , ", '"","","",""', ",,,\r"])
def test_a_row_of_blank_cells_is_skipped_as_the_line_reader_skips_it(blank: str) -> None:
    register = imported(f"{HEADER}H1,Ann,ann@example.com,10\n{blank}\nH2,Bob,bob@example.com,20\n")
    assert register.holder_count == 2
    assert sorted(Holder.objects.values_list("account", "shares")) == [("H1", 10), ("H2", 20)]


def test_a_blank_row_at_the_end_of_the_file_is_skipped() -> None:
    register = imported(f"{HEADER}H1,Ann,ann@example.com,10\n,,,")
    assert register.holder_count == 1


@pytest.mark.parametrize("space", ["\u00a0", "\u2007", "\u202f", "\u3000"])
def test_a_unicode_space_around_a_cell_is_taken_off_as_the_line_reader_strips_it(space: str) -> None:
    imported(f"{HEADER}H1,{space}Ann{space},ann@example.com,100{space}\n")
    holder = Holder.objects.get()
    assert (holder.name, holder.shares) == ("Ann", 100)


def test_a_quote_inside_a_name_is_kept_as_the_file_has_it() -> None:
    imported(f'{HEADER}H1,Robert "Bob" Smith,bob@example.com,10\nH2,"Smith, ""Jo""",jo@example.com,5\n')
    assert sorted(Holder.objects.values_list("name", flat=True)) == ['Robert "Bob" Smith', 'Smith, "Jo"']


def test_quotes_inside_a_shares_cell_are_refused_as_not_a_whole_number() -> None:
    errors = refused(f'{HEADER}H1,Ann,ann@example.com,1"000"\n')
    assert errors == ["line 2: shares must be a whole number, found '1\"000\"'"]


def test_an_email_address_longer_than_the_column_is_named_and_nothing_is_stored() -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    assert len(address) > 254
    errors = refused(f"{HEADER}H1,Ann,{address},10\n")
    assert len(errors) == 1
    assert errors[0].startswith("line 2: '") and errors[0].endswith("is not a valid e-mail address")


def test_shares_summing_past_a_bigint_are_reported_over_outstanding_with_their_exact_total() -> None:
    lines = "".join(f"H{i},Holder {i},h{i}@example.com,999999999999999999\n" for i in range(10))
    errors = refused(HEADER + lines, outstanding=2**63 - 1)
    assert errors == [
        "the register holds 9,999,999,999,999,999,990 shares, more than the 9,223,372,036,854,775,807 outstanding"
    ]


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u2069", "\u200f", "\u061c"])
def test_a_bidirectional_control_in_a_name_is_refused_on_every_database_as_the_line_reader_refuses_it(
    control: str,
) -> None:
    text = f"{HEADER}H1,Ann,ann@example.com,10\nH2,Bob{control}Smith,bob@example.com,20\n"
    assert refused(text) == ["line 3: control character in name"]


@pytest.mark.parametrize(
    "name", ["\u0645\u062d\u0645\u062f \u0639\u0644\u064a", "\u05d3\u05d5\u05d3 \u05dc\u05d5\u05d9"]
)
def test_an_arabic_or_hebrew_name_is_imported_alike_on_every_database(name: str) -> None:
    imported(f"{HEADER}H1,{name},ann@example.com,10\n")
    assert Holder.objects.get().name == name
