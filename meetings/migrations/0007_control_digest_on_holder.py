"""A control number's digest moves from its own table onto the holder: an import stores it in the
holders' COPY instead of a million more rows, each checked against its holder by a foreign key
(about 20 s of a million-holder import). HolderControl keeps only claims: the numbers not yet
claimed lose their row, their digest being on the holder."""

from django.db import migrations, models

COPY_DIGESTS = (
    "UPDATE meetings_holder SET control_digest = (SELECT c.digest FROM meetings_holdercontrol c "
    "WHERE c.holder_id = meetings_holder.id) WHERE id IN (SELECT holder_id FROM meetings_holdercontrol)"
)
COPY_BACK = (
    "INSERT INTO meetings_holdercontrol (holder_id, digest) SELECT id, control_digest FROM meetings_holder "
    "WHERE control_digest IS NOT NULL AND id NOT IN (SELECT holder_id FROM meetings_holdercontrol)"
)
RESTORE_CLAIMED = (
    "UPDATE meetings_holdercontrol SET digest = (SELECT h.control_digest FROM meetings_holder h "
    "WHERE h.id = meetings_holdercontrol.holder_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0006_directed_proxies"),
    ]

    operations = [
        migrations.AddField(
            model_name="holder",
            name="control_digest",
            field=models.BinaryField(blank=True, editable=False, max_length=32, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="holdercontrol",
            name="digest",
            field=models.BinaryField(max_length=32, null=True),
        ),
        migrations.RunSQL(COPY_DIGESTS, reverse_sql=[RESTORE_CLAIMED, COPY_BACK]),
        migrations.RunSQL(
            "DELETE FROM meetings_holdercontrol WHERE claimed_at IS NULL", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.RemoveField(
            model_name="holdercontrol",
            name="digest",
        ),
    ]
