"""The console's register import runs as a task: the request stores the file and answers with
the import's page; the task reports its progress, stores the register once, and leaves no file."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from meetings import import_jobs
from meetings.models import Holder, RegisterImport, RegisterImportStatus, RegisterSnapshot
from meetings.register_errors import register_error_text
from meetings.tasks import register_import_run
from tests.factories import make_secretary, make_user, register_csv

pytestmark = pytest.mark.django_db(transaction=True)

ROWS: list[tuple[str, str, str, int | str]] = [
    (f"H-{n:05d}", f"Holder {n}", f"holder{n}@example.com", 1_000 + n) for n in range(25_000)
]


def post_register(client: Client, content: bytes, *, follow: bool = True) -> Any:
    upload = SimpleUploadedFile("register.csv", content, content_type="text/csv")
    return client.post(
        "/console/registers/import/",
        {"file": upload, "record_date": "2026-03-31", "shares_outstanding": str(10**12)},
        follow=follow,
    )


def queued_job(content: bytes, secretary: Any) -> RegisterImport:
    """A job as the request leaves it, without running its task."""
    upload = SimpleUploadedFile("register.csv", content)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(register_import_run, "delay", lambda *args, **kwargs: None)
        patch.setattr(register_import_run, "delay_on_commit", lambda *args, **kwargs: None)
        return import_jobs.register_import_queue(
            upload=upload, record_date=datetime.date(2026, 3, 31), shares_outstanding=10**12, actor=secretary
        )


def test_the_console_answers_with_the_imports_page_which_shows_the_result(client: Client) -> None:
    make_user(email="holder7@example.com")
    client.force_login(make_secretary())
    response = post_register(client, register_csv(ROWS[:10]), follow=False)
    job = RegisterImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/registers/imports/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Imported the register of" in page
    assert "10 holders" in page
    assert "1 is linked to an account by e-mail" in page
    assert job.status == RegisterImportStatus.DONE
    assert job.snapshot is not None
    assert (job.lines_checked, job.lines_imported) == (10, 10)


def test_the_task_reports_its_progress_as_it_reads(secretary: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    job = queued_job(register_csv(ROWS), secretary)
    seen: list[tuple[str, int]] = []
    report = import_jobs._progress

    def watched(job_id: int) -> Any:
        inner = report(job_id)

        def step(lines: int, bytes_read: int) -> None:
            inner(lines, bytes_read)
            # What another connection (the page) reads: the update is committed at once.
            row = RegisterImport.objects.values_list("status", "lines_checked").get(pk=job_id)
            seen.append(row)

        return step

    monkeypatch.setattr(import_jobs, "_progress", watched)
    assert register_import_run.apply(args=[job.pk]).get() == "done"
    checked = [lines for status, lines in seen]
    assert all(status == RegisterImportStatus.RUNNING for status, _ in seen)
    assert len(set(checked)) >= 3, checked
    assert checked == sorted(checked)
    job.refresh_from_db()
    assert (job.lines_checked, job.lines_imported) == (25_000, 25_000)


def test_running_the_task_twice_imports_the_register_once_and_deletes_the_file(secretary: Any) -> None:
    job = queued_job(register_csv(ROWS[:50]), secretary)
    stored = Path(settings.MEDIA_ROOT) / job.file
    assert stored.exists()
    assert register_import_run.apply(args=[job.pk]).get() == "done"
    assert register_import_run.apply(args=[job.pk]).get() is None
    assert RegisterSnapshot.objects.count() == 1
    assert Holder.objects.count() == 50
    assert not stored.exists()
    job.refresh_from_db()
    assert job.file == ""
    assert job.finished_at is not None


def test_a_bad_file_fails_naming_every_bad_line_cut_to_eighty_characters(client: Client) -> None:
    rows = list(ROWS[:20])
    rows[4] = ("H-00004", "Holder 4", "x" * 300, 10)
    rows[9] = ("H-00009", "Holder 9", "holder9@example.com", "many")
    client.force_login(make_secretary())
    response = post_register(client, register_csv(rows))
    page = response.content.decode()
    job = RegisterImport.objects.get()
    assert job.status == RegisterImportStatus.FAILED
    assert job.error_total == 2
    assert register_error_text(job.errors[0]).startswith("line 6: '" + "x" * 80 + "…'")
    assert "x" * 81 not in page
    assert "The register file has 2 errors; nothing was imported." in page
    assert "line 11: shares must be a whole number" in page
    assert 'value="1000000000000"' in page  # the form again, with what was typed
    assert not RegisterSnapshot.objects.exists()
    assert job.file == ""  # the file with holders' addresses is gone


def test_a_refresh_finds_the_same_import_and_the_console_lists_it_while_it_runs(client: Client) -> None:
    secretary = make_secretary()
    job = queued_job(register_csv(ROWS[:5]), secretary)
    client.force_login(secretary)
    console = client.get("/console/").content.decode()
    assert "Imports in progress" in console
    assert f"/console/registers/imports/{job.pk}/" in console
    status = client.get(f"/console/registers/imports/{job.pk}/status/").json()
    assert status == {
        "status": "queued",
        "finished": False,
        "percent": 0,
        "lines_checked": 0,
        "lines_imported": 0,
        "text": "0 lines checked · 0 imported",
        "status_label": "Queued",
    }
    page = client.get(f"/console/registers/imports/{job.pk}/").content.decode()
    assert 'id="job-progress" max="100" value="0"' in page
    assert "import-progress.js" in page
    register_import_run.apply(args=[job.pk])
    assert client.get(f"/console/registers/imports/{job.pk}/status/").json()["percent"] == 100
    assert "Imports in progress" not in client.get("/console/").content.decode()


def test_only_the_secretary_sees_an_import(client: Client) -> None:
    job = queued_job(register_csv(ROWS[:5]), make_secretary())
    client.force_login(make_user())
    assert client.get(f"/console/registers/imports/{job.pk}/").status_code == 403
    assert client.get(f"/console/registers/imports/{job.pk}/status/").status_code == 403


def test_an_import_whose_task_was_lost_is_queued_again_and_runs_once(secretary: Any) -> None:
    job = queued_job(register_csv(ROWS[:5]), secretary)
    assert import_jobs.register_imports_resume() == []  # just uploaded: its task may be on its way
    RegisterImport.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    assert import_jobs.register_imports_resume() == [job.pk]  # eager here: it ran
    assert import_jobs.register_imports_resume() == []
    job.refresh_from_db()
    assert job.status == RegisterImportStatus.DONE
    assert RegisterSnapshot.objects.count() == 1


def test_a_file_refused_whole_reads_in_the_uploaders_language(client: Client, settings: Any) -> None:
    from core.models import Profile

    secretary = make_secretary()
    Profile.objects.create(user=secretary, language="it")
    job = queued_job(register_csv(ROWS[:5]), secretary)
    settings.REGISTER_MAX_BYTES = 1024 * 1024 * 2  # the limit in whole MB, as the message says it
    Path(settings.MEDIA_ROOT, job.file).write_bytes(b"holder,name,email,shares\n" + b"x" * (3 * 1024 * 1024))
    register_import_run.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == RegisterImportStatus.FAILED
    assert job.message == "Il file del registro supera 2 MB; non è stato importato nulla."
    client.force_login(secretary)
    assert job.message in client.get(f"/console/registers/imports/{job.pk}/").content.decode()
