"""A register import's own page in the console, and the small JSON answer its script polls
while a worker runs the import (polls/import_jobs.py). A refresh or a second tab finds the
same import here; the console lists those still running."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import number_format
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from meetings.forms import RegisterImportForm
from meetings.import_models import RegisterImport, RegisterImportStatus
from proposals.console import secretary_only

# Reading and checking is nearly all of the work; storing the checked lines is the rest.
CHECKED_SHARE = 95


def _percent(job: RegisterImport) -> int:
    if job.status == RegisterImportStatus.DONE:
        return 100
    if not job.size:
        return 0
    return min(CHECKED_SHARE, job.bytes_read * CHECKED_SHARE // job.size)


def _counts(job: RegisterImport) -> str:
    checked = ngettext("%(count)s line checked", "%(count)s lines checked", job.lines_checked) % {
        "count": number_format(job.lines_checked, force_grouping=True)
    }
    imported = ngettext("%(count)s imported", "%(count)s imported", job.lines_imported) % {
        "count": number_format(job.lines_imported, force_grouping=True)
    }
    return f"{checked} · {imported}"


@require_http_methods(["GET"])
@secretary_only
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(RegisterImport.objects.select_related("snapshot"), pk=job_id)
    context: dict[str, Any] = {"job": job, "percent": _percent(job), "counts": _counts(job)}
    if job.status == RegisterImportStatus.DONE and job.snapshot is not None:
        context["linked"] = job.snapshot.holders.filter(user__isnull=False).count()
    if job.status == RegisterImportStatus.FAILED:
        # The corrected file goes with what was typed the first time.
        initial = {"record_date": job.record_date, "shares_outstanding": job.shares_outstanding}
        context["import_form"] = RegisterImportForm(initial=initial)
    return render(request, "console/register_import.html", context)


@require_http_methods(["GET"])
@secretary_only
def import_status(request: HttpRequest, job_id: int) -> JsonResponse:
    """What the page's script needs to move the bar; the finished page says the rest."""
    job = get_object_or_404(RegisterImport, pk=job_id)
    return JsonResponse(
        {
            "status": job.status,
            "finished": job.finished,
            "percent": _percent(job),
            "lines_checked": job.lines_checked,
            "lines_imported": job.lines_imported,
            "text": _counts(job),
            "status_label": str(RegisterImportStatus(job.status).label),
        },
        headers={"Cache-Control": "no-store"},
    )
