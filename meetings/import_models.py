"""A register import that runs on a worker: the request stores the file and one of these rows,
the worker fills in its progress, and the secretary's page reads it. Kept out of polls/models.py
(already at the module size limit) and imported there, so Django finds it as a polls model."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RegisterImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RegisterImport(models.Model):
    """One upload of a register of record and what became of it."""

    status = models.CharField(max_length=10, choices=RegisterImportStatus.choices, default=RegisterImportStatus.QUEUED)
    # Relative to MEDIA_ROOT, which the web server and the worker share; emptied once the
    # import has finished, when the file (holders' names and addresses) is deleted.
    file = models.CharField(max_length=255, blank=True)
    source_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    record_date = models.DateField()
    shares_outstanding = models.BigIntegerField()
    bytes_read = models.BigIntegerField(default=0)
    lines_checked = models.BigIntegerField(default=0)
    lines_imported = models.BigIntegerField(default=0)
    # Every bad line as the checks found it (each echo already cut to 80 characters), or the
    # one reason a whole file was refused.
    errors = models.JSONField(default=list, blank=True)
    error_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    snapshot = models.ForeignKey(
        "meetings.RegisterSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running"]) | Q(finished_at__isnull=False),
                name="meetings_register_import_finished_has_time",
            ),
            models.CheckConstraint(
                condition=Q(shares_outstanding__gt=0), name="meetings_register_import_outstanding_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Register import #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (RegisterImportStatus.DONE, RegisterImportStatus.FAILED)
