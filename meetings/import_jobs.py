"""Register imports on a worker: the request stores the file and a RegisterImport row and
returns at once; the task reads the file, reporting how many lines it has checked, and stores
the register in one transaction. The secretary's page polls the row."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.models import Profile
from meetings.import_models import RegisterImport, RegisterImportStatus
from meetings.register_import import register_stage, register_store
from polls.exceptions import RegisterInvalid

logger = logging.getLogger("quorum.polls")

UPLOAD_FOLDER = "register-imports"
ACTIVE = (RegisterImportStatus.QUEUED, RegisterImportStatus.RUNNING)


def register_import_queue(
    *, upload: File, record_date: datetime.date, shares_outstanding: int, actor: User
) -> RegisterImport:
    """Keep the uploaded file where the worker can read it (MEDIA_ROOT) and queue its import
    once the job is committed. Under eager Celery (tests, no broker) it runs here and now."""
    from meetings.tasks import register_import_run

    original = PurePosixPath(upload.name or "register.csv").name
    # A name of our own: the uploader's name is shown, never used as a path.
    stored = default_storage.save(f"{UPLOAD_FOLDER}/{uuid.uuid4().hex}.csv", upload)
    job = RegisterImport.objects.create(
        file=stored,
        source_name=original[:255],
        size=upload.size or 0,
        record_date=record_date,
        shares_outstanding=shares_outstanding,
        created_by=actor,
    )
    if register_import_run.app.conf.task_always_eager:
        # Inline: on_commit would wait for the end of a transaction a test never commits.
        register_import_run.delay(job.pk)
        job.refresh_from_db()
    else:
        register_import_run.delay_on_commit(job.pk)
    return job


def _progress(job_id: int) -> Callable[[int, int], None]:
    def report(lines: int, bytes_read: int) -> None:
        # An UPDATE of the counters alone, committed at once when no transaction is open (the
        # worker's case), so the page that polls sees each step. `lines` is the file's line
        # number reached, the header included.
        RegisterImport.objects.filter(pk=job_id).update(lines_checked=max(lines - 1, 0), bytes_read=bytes_read)

    return report


def _claim(job_id: int) -> RegisterImport | None:
    """Mark the job running, or None when it is finished (a second delivery of the task)."""
    with transaction.atomic():
        job = RegisterImport.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        RegisterImport.objects.filter(pk=job_id).update(status=RegisterImportStatus.RUNNING)
        return job


def _finish(job_id: int, **fields: object) -> None:
    RegisterImport.objects.filter(pk=job_id).update(finished_at=timezone.now(), file="", **fields)


def _discard_file(name: str) -> None:
    """The file names holders and their addresses: it is kept no longer than the import."""
    if name and default_storage.exists(name):
        default_storage.delete(name)


def _reader_language(job: RegisterImport) -> str:
    """The language the uploader chose (kept on their profile): a refusal of the whole file is
    stored as a sentence, written here on the worker, which has no browser to ask."""
    if job.created_by_id is None:
        return settings.LANGUAGE_CODE
    chosen = Profile.objects.filter(user_id=job.created_by_id).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


def register_import_job_run(*, job_id: int) -> RegisterImportStatus | None:
    """Run a queued import. Safe to run twice, even at once: the store step locks the job row
    and does nothing when another run already finished it. Returns the final status, or None
    when there was nothing to do."""
    job = _claim(job_id)
    if job is None:
        return None
    with translation.override(_reader_language(job)):
        return _run(job_id, job)


def _run(job_id: int, job: RegisterImport) -> RegisterImportStatus | None:
    try:
        with default_storage.open(job.file, "rb") as source:
            staged = register_stage(
                source=source, shares_outstanding=job.shares_outstanding, on_progress=_progress(job_id)
            )
        with transaction.atomic():
            locked = RegisterImport.objects.select_for_update().get(pk=job_id)
            if locked.finished:
                return None
            snapshot = register_store(
                staged=staged,
                record_date=job.record_date,
                shares_outstanding=job.shares_outstanding,
                actor=job.created_by,
                source_name=job.source_name,
            )
            _finish(
                job_id,
                status=RegisterImportStatus.DONE,
                snapshot=snapshot,
                lines_imported=snapshot.holder_count,
            )
        status = RegisterImportStatus.DONE
    except RegisterInvalid as error:
        # The findings as codes and values: the job's page puts them into its reader's words.
        stored = [finding.as_json() for finding in error.findings]
        _finish(job_id, status=RegisterImportStatus.FAILED, errors=stored, error_total=error.total)
        status = RegisterImportStatus.FAILED
    except DomainError as error:
        _finish(job_id, status=RegisterImportStatus.FAILED, message=str(error.message)[:500])
        status = RegisterImportStatus.FAILED
    except FileNotFoundError:
        _finish(job_id, status=RegisterImportStatus.FAILED, message=_("The uploaded file is gone; upload it again."))
        status = RegisterImportStatus.FAILED
    except Exception:
        logger.exception("register import %s stopped", job_id)
        _finish(
            job_id,
            status=RegisterImportStatus.FAILED,
            message=_("The import stopped unexpectedly; nothing was imported."),
        )
        status = RegisterImportStatus.FAILED
    _discard_file(job.file)
    return status


def register_imports_active() -> QuerySet[RegisterImport]:
    """Imports still queued or running, for the console (a second tab finds them there)."""
    return RegisterImport.objects.filter(status__in=ACTIVE).order_by("created_at")


def register_imports_resume(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> list[int]:
    """Queue again the imports still waiting for a worker a while after the upload: their task
    was lost (the broker was down when the request enqueued it). A job queued twice runs once."""
    from meetings.tasks import register_import_run

    stale = timezone.now() - older_than
    ids = list(
        RegisterImport.objects.filter(status=RegisterImportStatus.QUEUED, created_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    for job_id in ids:
        register_import_run.delay(job_id)
    return ids
