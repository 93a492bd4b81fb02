from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DECIDED = {"approved": "for", "rejected": "against", "referred": "none"}


def recommend_existing(apps: Any, schema_editor: Any) -> None:
    """Proposals the board already decided get the recommendation their decision carries: the
    status while it stands, else the last decision on the trail."""
    Proposal = apps.get_model("proposals", "Proposal")
    AuditEvent = apps.get_model("polls", "AuditEvent")
    for status, recommendation in DECIDED.items():
        Proposal.objects.filter(status=status).update(board_recommendation=recommendation)
    later = Proposal.objects.filter(status__in=["shareholder_vote", "adopted", "defeated", "implemented"])
    for proposal in later.filter(board_recommendation=""):
        payload = (
            AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action__in=["decide", "refer"])
            .order_by("-seq")
            .values_list("payload", flat=True)
            .first()
        )
        outcome = payload.get("to") if isinstance(payload, dict) else None
        if outcome in DECIDED:
            Proposal.objects.filter(pk=proposal.pk).update(board_recommendation=DECIDED[outcome])


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0001_initial"),
        ("proposals", "0004_parties"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BoardSettings",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "quorum_basis",
                    models.CharField(
                        choices=[
                            ("all_in_office", "A majority of all directors in office"),
                            ("disinterested", "A majority of the disinterested directors (special committee)"),
                        ],
                        default="all_in_office",
                        max_length=20,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "board settings", "verbose_name_plural": "board settings"},
        ),
        migrations.AddConstraint(
            model_name="boardsettings",
            constraint=models.CheckConstraint(condition=models.Q(("id", 1)), name="proposals_board_settings_singleton"),
        ),
        migrations.AddConstraint(
            model_name="boardsettings",
            constraint=models.CheckConstraint(
                condition=models.Q(("quorum_basis__in", ["all_in_office", "disinterested"])),
                name="proposals_board_settings_basis_valid",
            ),
        ),
        migrations.RemoveConstraint(model_name="reviewvote", name="proposals_review_decision_valid"),
        migrations.AlterField(
            model_name="reviewvote",
            name="decision",
            field=models.CharField(
                choices=[
                    ("approve", "Approve"),
                    ("reject", "Reject"),
                    ("refer", "Refer to the shareholders with no recommendation"),
                    ("abstain", "Abstain"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="reviewvote",
            constraint=models.CheckConstraint(
                condition=models.Q(("decision__in", ["approve", "reject", "refer", "abstain"])),
                name="proposals_review_decision_valid",
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="board_recommendation",
            field=models.CharField(
                blank=True,
                choices=[("for", "For"), ("against", "Against"), ("none", "No recommendation")],
                default="",
                editable=False,
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="proposal",
            constraint=models.CheckConstraint(
                condition=models.Q(("board_recommendation__in", ["", "for", "against", "none"])),
                name="proposals_board_recommendation_valid",
            ),
        ),
        migrations.RunPython(recommend_existing, migrations.RunPython.noop),
    ]
