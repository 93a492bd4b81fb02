"""Claims of holdings by control number, and the count of wrong numbers each account has typed.
Kept out of polls/models.py (at the module size limit) and imported there, so Django finds them.
The number's keyed digest is on the holder itself (Holder.control_digest): stored in the same
COPY as the holder, a million-holder import needs no second table and no second foreign key."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class HolderControl(models.Model):
    """A holder's control number, claimed: who claimed it and when. A holding whose number has
    not been claimed has no row; the number itself went to the mailing file and is nowhere in
    the database."""

    holder = models.OneToOneField("meetings.Holder", primary_key=True, on_delete=models.CASCADE, related_name="control")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Control number of holder #{self.holder_id}"


class ClaimAttempts(models.Model):
    """Wrong control numbers an account has typed since its last lockout; in the database so
    that every worker and process counts the same ones."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="claim_attempts"
    )
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Claim attempts of account #{self.user_id}"
