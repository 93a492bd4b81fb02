from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger("quorum.meetings")


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


@shared_task(name="meetings.tasks.meeting_notices_send")
def meeting_notices_send(meeting_id: int) -> int:
    """A meeting's notices, queued when one of its items opens (meetings/notices.py); each
    holder's is queued once, so a second delivery queues none."""
    from meetings.notices import meeting_notices_queue

    return meeting_notices_queue(meeting_id=meeting_id)


@shared_task(name="meetings.tasks.meeting_reminders_sweep")
def meeting_reminders_sweep() -> dict[str, int]:
    """Beat: the reminders of items closing within 24 hours, and the notices of open meetings
    whose task was lost (a broker outage, a killed worker). Every notification is keyed, so a
    second run, or one after a worker restart, queues nothing more; one meeting that fails is
    logged and the others still run."""
    from meetings import notices

    notices_queued = 0
    for meeting_id in notices.meetings_open_now():
        try:
            notices_queued += notices.meeting_notices_queue(meeting_id=meeting_id)
        except Exception:
            logger.exception("sweep: notices of meeting %s failed; the next sweep tries again", meeting_id)
    return {"notices": notices_queued, "reminders": notices.meeting_reminders_queue()}
