from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from meetings import register_import as register_import_module
from meetings.models import Holder, RegisterSnapshot
from meetings.register_import import register_import
from polls.exceptions import RegisterInvalid
from tests.factories import make_secretary, make_user, register_csv

pytestmark = pytest.mark.django_db

RECORD_DATE = datetime.date(2025, 9, 15)


def thousand_rows_with_three_bad_lines() -> bytes:
    rows: list[tuple[str, str, str, int | str]] = [
        (f"H{i:04d}", f"Holder {i}", f"holder{i}@example.com", 1000 + i) for i in range(1000)
    ]
    rows[99] = ("H0099", "Holder 99", "holder99@example.com", "12.5")  # file line 101
    rows[499] = ("H0001", "Holder again", "again@example.com", 10)  # line 501 repeats line 3's holder
    rows[899] = ("H0899", "Holder 899", "not-an-email", 10)  # line 901
    return register_csv(rows)


def test_a_register_with_three_bad_lines_among_a_thousand_names_all_three_and_imports_nothing() -> None:
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(thousand_rows_with_three_bad_lines()),
            record_date=RECORD_DATE,
            shares_outstanding=10**9,
            actor=None,
        )
    assert refused.value.errors == [
        "line 101: shares must be a whole number, found '12.5'",
        "line 501: holder H0001 already appears on line 3",
        "line 901: 'not-an-email' is not a valid e-mail address",
    ]
    assert not RegisterSnapshot.objects.exists()
    assert not Holder.objects.exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("H1,Alice,alice@example.com,-5", "line 2: shares must not be negative, found -5"),
        ("H1,Alice,alice@example.com", "line 2: expected 4 fields (holder,name,email,shares), found 3"),
        (",Alice,alice@example.com,5", "line 2: missing holder"),
        ("H1,,alice@example.com,5", "line 2: missing name"),
        ("H1,Alice,alice@example.com,", "line 2: missing shares"),
    ],
)
def test_each_kind_of_bad_line_is_reported_by_its_line_number(row: str, message: str) -> None:
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(f"holder,name,email,shares\n{row}\n".encode()),
            record_date=RECORD_DATE,
            shares_outstanding=100,
            actor=None,
        )
    assert refused.value.errors == [message]


def test_a_wrong_header_is_refused() -> None:
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(b"id,name,mail,qty\nH1,A,a@example.com,1\n"),
            record_date=RECORD_DATE,
            shares_outstanding=100,
            actor=None,
        )
    assert refused.value.errors[0].startswith("line 1: expected the header holder,name,email,shares")


def test_holdings_above_the_shares_outstanding_are_refused() -> None:
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(register_csv([("H1", "A", "a@example.com", 60), ("H2", "B", "b@example.com", 50)])),
            record_date=RECORD_DATE,
            shares_outstanding=100,
            actor=None,
        )
    assert refused.value.errors == ["the register holds 110 shares, more than the 100 outstanding"]


def test_holders_are_linked_to_accounts_by_email_ignoring_case() -> None:
    alice = make_user(username="alice", email="Alice@Example.com")
    snapshot = register_import(
        source=io.BytesIO(register_csv([("H1", "Alice", "alice@example.COM", 60), ("H2", "Bob", "b@example.com", 5)])),
        record_date=RECORD_DATE,
        shares_outstanding=100,
        actor=None,
    )
    assert (snapshot.holder_count, snapshot.total_shares, snapshot.shares_outstanding) == (2, 65, 100)
    assert dict(snapshot.holders.values_list("account", "user")) == {"H1": alice.pk, "H2": None}


def test_the_api_imports_a_multipart_register_for_the_secretary(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    upload = SimpleUploadedFile("register.csv", register_csv([("H1", "Alice", "a@example.com", 10)]), "text/csv")
    response = api.post(
        "/api/v1/registers/",
        {"file": upload, "record_date": "2025-09-15", "shares_outstanding": "100"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["holder_count"] == 1
    assert response.json()["shares_outstanding"] == "100"


def test_the_api_lists_every_bad_line_with_a_400(api: APIClient) -> None:
    api.force_authenticate(make_secretary())
    upload = SimpleUploadedFile("register.csv", thousand_rows_with_three_bad_lines(), "text/csv")
    response = api.post(
        "/api/v1/registers/",
        {"file": upload, "record_date": "2025-09-15", "shares_outstanding": "1000000000"},
        format="multipart",
    )
    assert response.status_code == 400
    assert [message.split(":")[0] for message in response.json()["errors"]] == ["line 101", "line 501", "line 901"]
    assert "nothing was imported" in response.json()["detail"]
    assert not RegisterSnapshot.objects.exists()


def test_members_cannot_see_or_upload_registers(api: APIClient) -> None:
    api.force_authenticate(make_user())
    assert api.get("/api/v1/registers/").status_code == 403
    upload = SimpleUploadedFile("register.csv", register_csv([("H1", "A", "a@example.com", 1)]), "text/csv")
    response = api.post("/api/v1/registers/", {"file": upload, "record_date": "2025-09-15", "shares_outstanding": "1"})
    assert response.status_code == 403
    assert not RegisterSnapshot.objects.exists()


def test_the_command_imports_a_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(register_csv([("H1", "Alice", "a@example.com", 10)]))
    out = io.StringIO()
    call_command("import_register", str(good), "--record-date", "2025-09-15", "--shares-outstanding", "10", stdout=out)
    assert "1 holders, 10 of 10 shares outstanding" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(register_csv([("H1", "Alice", "a@example.com", "x")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command(
            "import_register", str(bad), "--record-date", "2025-09-15", "--shares-outstanding", "10", stderr=err
        )
    assert "line 2: shares must be a whole number" in err.getvalue()
    assert RegisterSnapshot.objects.count() == 1


def test_the_admin_imports_a_register_and_shows_bad_lines(client: Client, secretary: Any) -> None:
    client.force_login(secretary)
    assert client.get("/admin/meetings/registersnapshot/add/").status_code == 200
    bad = SimpleUploadedFile("r.csv", register_csv([("H1", "Alice", "a@example.com", "-1")]), "text/csv")
    page = client.post(
        "/admin/meetings/registersnapshot/add/",
        {"file": bad, "record_date": "2025-09-15", "shares_outstanding": "10"},
    ).content.decode()
    assert "line 2: shares must not be negative, found -1" in page
    good = SimpleUploadedFile("r.csv", register_csv([("H1", "Alice", "a@example.com", 7)]), "text/csv")
    response = client.post(
        "/admin/meetings/registersnapshot/add/",
        {"file": good, "record_date": "2025-09-15", "shares_outstanding": "10"},
    )
    assert response.status_code == 302
    assert RegisterSnapshot.objects.get().total_shares == 7


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("alice@example.com", True),
        ("o'brien+votes@mail.example.co.uk", True),
        ("not-an-email", False),
        ("two@@example.com", False),
        ("dot.@example.com", False),
        (".dot@example.com", False),
        ("a..b@example.com", False),
        ("space @example.com", False),
        ("alice@-example.com", False),
        ("alice@example", False),
        ("alice@example.c", False),
    ],
)
def test_both_import_paths_judge_e_mail_addresses_alike(email: str, valid: bool) -> None:
    """PostgreSQL checks in SQL, other databases in Python: a file gets the same answer."""
    csv_bytes = register_csv([("H1", "Alice", email, 5)])
    if valid:
        snapshot = register_import(
            source=io.BytesIO(csv_bytes), record_date=RECORD_DATE, shares_outstanding=10, actor=None
        )
        assert snapshot.holder_count == 1
    else:
        with pytest.raises(RegisterInvalid) as refused:
            register_import(source=io.BytesIO(csv_bytes), record_date=RECORD_DATE, shares_outstanding=10, actor=None)
        assert refused.value.errors == [f"line 2: {email!r} is not a valid e-mail address"]


def test_cells_are_read_stripped_on_every_path() -> None:
    snapshot = register_import(
        source=io.BytesIO(b"holder,name,email,shares\n H1 , Alice , alice@example.com , 5 \n"),
        record_date=RECORD_DATE,
        shares_outstanding=10,
        actor=None,
    )
    holder = snapshot.holders.get()
    assert (holder.account, holder.name, holder.email, holder.shares) == ("H1", "Alice", "alice@example.com", 5)


@pytest.mark.parametrize(
    "content",
    [
        b'holder,name,email,shares\nH1,Alice,alice@example.com,10\nH2,"Smith, John",john@example.com,5\n',
        b"\xef\xbb\xbfholder,name,email,shares\r\nH1,Alic\xc3\xa9 \xe2\x80\x94 \xef\xbd\x98AI,alice@example.com,10\r\n",
    ],
)
def test_a_clean_file_on_postgresql_is_read_by_copy_alone(content: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control-character and end-of-data checks must not send ordinary files (quoted
    names, accents, a BOM, CRLF) to the slower line reader."""
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fell back to the Python reader")

    monkeypatch.setattr(register_import_module, "read_register", refuse)
    snapshot = register_import(source=io.BytesIO(content), record_date=RECORD_DATE, shares_outstanding=100, actor=None)
    assert snapshot.holder_count == content.count(b"@")


def test_a_register_without_duplicates_is_never_sorted_line_by_line_to_name_them() -> None:
    rows = [(f"H{i:04d}", f"Holder {i}", f"holder{i}@example.com", 10) for i in range(50)]
    with CaptureQueriesContext(connection) as queries:
        register = register_import(
            source=io.BytesIO(register_csv(rows)), record_date=RECORD_DATE, shares_outstanding=10**6, actor=None
        )
    assert register.holder_count == 50
    assert register.total_shares == 500
    assert not [query for query in queries.captured_queries if "PARTITION BY account" in query["sql"]]


def test_two_duplicates_of_one_holder_each_name_the_holders_first_line() -> None:
    rows = [(f"H{i:04d}", f"Holder {i}", f"holder{i}@example.com", 10) for i in range(5)]
    rows += [("H0002", "Again", "again@example.com", 1), ("H0002", "Thrice", "thrice@example.com", 1)]
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(register_csv(rows)), record_date=RECORD_DATE, shares_outstanding=10**6, actor=None
        )
    assert refused.value.errors == [
        "line 7: holder H0002 already appears on line 4",
        "line 8: holder H0002 already appears on line 4",
    ]
    assert not Holder.objects.exists()
