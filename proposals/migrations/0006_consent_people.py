import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0005_board_rule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentSignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "response",
                    models.CharField(
                        blank=True,
                        choices=[("", "Not yet"), ("signed", "Signed"), ("refused", "Refused")],
                        default="",
                        max_length=10,
                    ),
                ),
                ("responded_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["director__user__username"],
            },
        ),
        migrations.CreateModel(
            name="WrittenConsent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.TextField()),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("approved", "Approve the proposal"),
                            ("rejected", "Reject the proposal"),
                            ("referred", "Refer it to the shareholders with no recommendation"),
                        ],
                        max_length=10,
                    ),
                ),
                ("deadline", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open for signature"), ("passed", "Passed"), ("failed", "Failed")],
                        default="open",
                        max_length=10,
                    ),
                ),
                ("failure", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="director",
            name="office_from",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="director",
            name="office_to",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="director",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("office_from__isnull", True),
                    ("office_to__isnull", True),
                    ("office_to__gte", models.F("office_from")),
                    _connector="OR",
                ),
                name="proposals_director_term_ordered",
            ),
        ),
        migrations.AddField(
            model_name="consentsignature",
            name="director",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="consent_signatures", to="proposals.director"
            ),
        ),
        migrations.AddField(
            model_name="writtenconsent",
            name="created_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="writtenconsent",
            name="proposal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="consents", to="proposals.proposal"
            ),
        ),
        migrations.AddField(
            model_name="consentsignature",
            name="consent",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="signatures", to="proposals.writtenconsent"
            ),
        ),
        migrations.AddConstraint(
            model_name="writtenconsent",
            constraint=models.CheckConstraint(
                condition=models.Q(("outcome__in", ["approved", "rejected", "referred"])),
                name="proposals_consent_outcome_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="writtenconsent",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "passed", "failed"])), name="proposals_consent_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="writtenconsent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("closed_at__isnull", True), ("status", "open")),
                    models.Q(models.Q(("status", "open"), _negated=True), ("closed_at__isnull", False)),
                    _connector="OR",
                ),
                name="proposals_consent_closed_when_not_open",
            ),
        ),
        migrations.AddConstraint(
            model_name="writtenconsent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")), fields=("proposal",), name="proposals_one_open_consent"
            ),
        ),
        migrations.AddConstraint(
            model_name="consentsignature",
            constraint=models.UniqueConstraint(fields=("consent", "director"), name="proposals_one_signature_each"),
        ),
        migrations.AddConstraint(
            model_name="consentsignature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("responded_at__isnull", True), ("response", "")),
                    models.Q(("response__in", ["signed", "refused"]), ("responded_at__isnull", False)),
                    _connector="OR",
                ),
                name="proposals_signature_response_timed",
            ),
        ),
        migrations.CreateModel(
            name="BoardMeeting",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_at", models.DateTimeField()),
                ("place", models.CharField(blank=True, max_length=200)),
                ("video_link", models.URLField(blank=True)),
                ("minutes", models.TextField(blank=True, help_text="Markdown.")),
                (
                    "minutes_status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("circulated", "Circulated for comments"),
                            ("approved", "Approved"),
                        ],
                        default="draft",
                        max_length=12,
                    ),
                ),
                ("minutes_approved_at", models.DateTimeField(blank=True, null=True)),
                ("minutes_digest", models.CharField(blank=True, max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("agenda", models.ManyToManyField(blank=True, related_name="board_meetings", to="proposals.proposal")),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-starts_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="BoardAttendance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("present", models.BooleanField(default=False)),
                (
                    "director",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="board_attendance",
                        to="proposals.director",
                    ),
                ),
                (
                    "meeting",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attendance",
                        to="proposals.boardmeeting",
                    ),
                ),
            ],
            options={
                "ordering": ["director__user__username"],
            },
        ),
        migrations.AddField(
            model_name="reviewvote",
            name="meeting",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="review_votes",
                to="proposals.boardmeeting",
            ),
        ),
        migrations.CreateModel(
            name="MinutesApproval",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "director",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="proposals.director"
                    ),
                ),
                (
                    "meeting",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="minutes_approvals",
                        to="proposals.boardmeeting",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="MinutesComment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("body", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "meeting",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="minutes_comments",
                        to="proposals.boardmeeting",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="boardmeeting",
            constraint=models.CheckConstraint(
                condition=models.Q(("minutes_status__in", ["draft", "circulated", "approved"])),
                name="proposals_minutes_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="boardmeeting",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("minutes_status", "approved"), _negated=True),
                    models.Q(("minutes_approved_at__isnull", False), models.Q(("minutes_digest", ""), _negated=True)),
                    _connector="OR",
                ),
                name="proposals_minutes_approved_frozen",
            ),
        ),
        migrations.AddConstraint(
            model_name="boardattendance",
            constraint=models.UniqueConstraint(fields=("meeting", "director"), name="proposals_one_attendance_each"),
        ),
        migrations.AddConstraint(
            model_name="minutesapproval",
            constraint=models.UniqueConstraint(fields=("meeting", "director"), name="proposals_one_minutes_approval"),
        ),
    ]
