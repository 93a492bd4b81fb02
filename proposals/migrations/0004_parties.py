import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def resolve_existing(apps, schema_editor):
    """Counterparties and interests written before parties existed get their parties."""
    from proposals.parties import party_key

    Party = apps.get_model("proposals", "Party")
    PartyAlias = apps.get_model("proposals", "PartyAlias")
    Proposal = apps.get_model("proposals", "Proposal")
    Director = apps.get_model("proposals", "Director")

    def resolve(text):
        key = party_key(text or "")
        if not key:
            return None
        alias = PartyAlias.objects.filter(key=key).first()
        if alias is not None:
            return alias.party
        name = " ".join(text.split())[:200]
        party, _ = Party.objects.get_or_create(name=name)
        PartyAlias.objects.create(party=party, text=name, key=key)
        return party

    for proposal in Proposal.objects.exclude(counterparty=""):
        proposal.party = resolve(proposal.counterparty)
        proposal.save(update_fields=["party"])
    for director in Director.objects.all():
        director.parties.set([p for p in (resolve(str(i)) for i in director.interests) if p is not None])


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0003_trust_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Party",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("confirmed", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["name"], "verbose_name_plural": "parties"},
        ),
        migrations.CreateModel(
            name="PartyAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.CharField(max_length=200)),
                ("key", models.CharField(max_length=200, unique=True)),
                (
                    "party",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="proposals.party"
                    ),
                ),
            ],
            options={
                "ordering": ["text"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("key", ""), _negated=True), name="proposals_party_alias_key_not_empty"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="proposal",
            name="party",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proposals",
                to="proposals.party",
            ),
        ),
        migrations.AddField(
            model_name="director",
            name="parties",
            field=models.ManyToManyField(blank=True, related_name="interested_directors", to="proposals.party"),
        ),
        migrations.AddField(model_name="recusal", name="lifted_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="recusal",
            name="lifted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(model_name="recusal", name="lift_reason", field=models.TextField(blank=True)),
        migrations.AddConstraint(
            model_name="recusal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("lifted_at__isnull", True),
                    models.Q(("lifted_by__isnull", False), models.Q(("lift_reason", ""), _negated=True)),
                    _connector="OR",
                ),
                name="proposals_recusal_lift_has_reason",
            ),
        ),
        migrations.RunPython(resolve_existing, migrations.RunPython.noop),
    ]
