from __future__ import annotations

from celery import shared_task


@shared_task(name="meetings.tasks.register_import_run")
def register_import_run(job_id: int) -> str | None:
    """A register import queued from the console (polls/import_jobs.py); a second delivery
    finds it finished and does nothing."""
    from meetings.import_jobs import register_import_job_run

    status = register_import_job_run(job_id=job_id)
    return str(status) if status else None


@shared_task(name="meetings.tasks.register_imports_resume")
def register_imports_resume() -> list[int]:
    """Beat, every five minutes: imports whose task was lost are queued again."""
    from meetings.import_jobs import register_imports_resume as resume

    return resume()
