"""Registers, holders, meetings, proxies and the inspector's tabulation: the shareholder's side
of a vote. The engine's polls and ballots refer to these rows by key; only this app reads them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from core.validators import SingleLineCharField
from polls.models import Comparator, Poll, choices_check


class RegisterSnapshot(models.Model):
    """The shareholder register as the transfer agent reported it at a record date."""

    record_date = models.DateField()
    shares_outstanding = models.BigIntegerField()
    source_name = models.CharField(max_length=255, blank=True)
    holder_count = models.PositiveIntegerField(default=0, editable=False)
    total_shares = models.BigIntegerField(default=0, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-record_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shares_outstanding__gt=0), name="meetings_register_outstanding_positive"
            ),
            models.CheckConstraint(
                condition=Q(total_shares__gte=0, total_shares__lte=F("shares_outstanding")),
                name="meetings_register_holdings_within_outstanding",
            ),
        ]

    def __str__(self) -> str:
        # Shown in the console's and the admin's register pickers: the reader's date and digits.
        from django.utils.formats import date_format, number_format
        from django.utils.translation import ngettext

        return ngettext(
            "Register at %(date)s (%(count)s holder)", "Register at %(date)s (%(count)s holders)", self.holder_count
        ) % {
            "date": date_format(self.record_date, "DATE_FORMAT"),
            "count": number_format(self.holder_count, force_grouping=True),
        }


class Holder(models.Model):
    # Both references are checked on PostgreSQL by statement-level triggers (migration 0008), not by
    # foreign keys that check a million-holder import row by row at commit.
    register = models.ForeignKey(
        RegisterSnapshot, on_delete=models.CASCADE, related_name="holders", db_constraint=False
    )
    account = SingleLineCharField(max_length=64, help_text="The transfer agent's account id.")
    name = SingleLineCharField(max_length=200)
    email = models.EmailField()
    shares = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="holdings",
        db_constraint=False,
    )
    # The keyed digest of the holder's control number (meetings.holdings); the number is only in the mailing file.
    control_digest = models.BinaryField(max_length=32, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["register", "account"]
        constraints = [
            models.UniqueConstraint(fields=["register", "account"], name="meetings_holder_account_unique"),
            models.CheckConstraint(condition=Q(shares__gte=0), name="meetings_holder_shares_non_negative"),
        ]
        indexes = [
            models.Index(fields=["register", "user"]),
            # Linking accounts to holders matches e-mail ignoring case (iexact is UPPER() = UPPER()).
            models.Index(Upper("email"), name="meetings_holder_email_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account})"


class Meeting(models.Model):
    title = SingleLineCharField(max_length=300)
    date = models.DateField()
    register = models.ForeignKey(
        RegisterSnapshot,
        on_delete=models.PROTECT,
        related_name="meetings",
        help_text="The register at the record date: who may vote and with how many shares.",
    )
    quorum_numerator = models.PositiveIntegerField(default=1)
    quorum_denominator = models.PositiveIntegerField(default=2)
    quorum_comparator = models.CharField(max_length=2, choices=Comparator.choices, default=Comparator.GT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The shares of the holders present (meetings.Attendance), moved with F() when one arrives.
    shares_present = models.BigIntegerField(default=0, editable=False)
    # When proxies stop voting; empty is the default, 23:59 the day before the meeting in the
    # site's time zone (`proxy_cutoff_at`), so it follows the date when the date moves.
    proxy_cutoff = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When proxy voting stops (holders vote until each item closes). "
        "Empty: 23:59 the day before the meeting, in the site's time zone.",
    )

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quorum_numerator__gt=0, quorum_numerator__lte=F("quorum_denominator")),
                name="meetings_meeting_quorum_is_a_fraction",
            ),
            models.CheckConstraint(
                condition=Q(shares_present__gte=0), name="meetings_meeting_shares_present_non_negative"
            ),
            choices_check("quorum_comparator", Comparator),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def quorum_text(self) -> str:
        return f"{self.quorum_numerator}/{self.quorum_denominator}"

    @property
    def proxy_cutoff_at(self) -> datetime.datetime:
        """The moment proxy voting stops: the one set, else 23:59 the day before the meeting."""
        if self.proxy_cutoff is not None:
            return self.proxy_cutoff
        day_before = self.date - datetime.timedelta(days=1)
        site = timezone.get_default_timezone()  # the site's, never the reader's activated zone
        return timezone.make_aware(datetime.datetime.combine(day_before, datetime.time(23, 59)), site)


class ProxyAppointment(models.Model):
    """A holder's instruction that another account may vote its shares at one meeting.

    `named_as` is the username or e-mail address the holder gave. A name that matched no
    account is kept too, with no `proxy` (nobody can vote on it): the holder's list then reads
    the same whether or not the name exists, so naming a proxy cannot probe for accounts."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="proxies")
    holder = models.ForeignKey(Holder, on_delete=models.CASCADE, related_name="proxies")
    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="proxy_for"
    )
    named_as = models.CharField(max_length=254, blank=True, default="")
    # Items without an instruction (ProxyInstruction): the proxy votes them as it sees fit
    # (True), or may not vote them at all (False, a proxy limited to its instructions).
    discretionary = models.BooleanField(default=True)
    appointed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appointed_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-appointed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "holder"], condition=Q(revoked_at__isnull=True), name="meetings_proxy_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shown_name} for {self.holder}"

    @property
    def shown_name(self) -> str:
        """The proxy as the holder named it (older rows: the account's username)."""
        if self.named_as:
            return self.named_as
        return self.proxy.get_username() if self.proxy is not None else ""


class ProxyInstructionChoice(models.TextChoices):
    FOR = "for", "For"
    AGAINST = "against", "Against"
    ABSTAIN = "abstain", "Abstain"
    # The board's recommendation on the item (a proposal's, or each nominee's in an election).
    RECOMMENDATION = "recommendation", "The board's recommendation"


class ProxyInstruction(models.Model):
    """How a directed proxy must vote one item of the appointment's meeting (meetings.proxy_rules)."""

    appointment = models.ForeignKey(ProxyAppointment, on_delete=models.CASCADE, related_name="instructions")
    item = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    instruction = models.CharField(max_length=14, choices=ProxyInstructionChoice.choices)

    class Meta:
        ordering = ["appointment", "item"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "item"], name="meetings_proxy_instruction_once"),
            models.CheckConstraint(
                condition=Q(instruction__in=ProxyInstructionChoice.values), name="meetings_proxy_instruction_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instruction} on {self.item_id}"


class Tabulation(models.Model):
    """The inspector of elections' official totals for an item; when present they decide."""

    poll = models.OneToOneField(Poll, on_delete=models.CASCADE, related_name="tabulation")
    shares_for = models.BigIntegerField()
    shares_against = models.BigIntegerField()
    shares_abstain = models.BigIntegerField()
    broker_non_votes = models.BigIntegerField(default=0)
    source = SingleLineCharField(max_length=255, blank=True, help_text="Where the figures come from.")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(shares_for__gte=0, shares_against__gte=0, shares_abstain__gte=0, broker_non_votes__gte=0),
                name="meetings_tabulation_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Tabulation of {self.poll}"


# Defined beside, imported here so Django registers them with the meetings app.
from meetings.attendance_models import Attendance, AttendanceSource  # noqa: E402, F401
from meetings.ballot_models import BallotLine, ItemInterest, ItemTerms, NomineeTally, TabulationLine  # noqa: E402, F401
from meetings.control_models import ClaimAttempts, HolderControl  # noqa: E402, F401
from meetings.import_models import RegisterImport, RegisterImportStatus  # noqa: E402, F401
