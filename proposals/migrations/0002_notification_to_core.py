"""The outbox moves to core (issue 15): core.Notification now owns this app's table
"proposals_notification" (core/migrations/0002_notification.py), and proposals forgets its model.

Here the table changes, in place, so existing rows stay with their ids, keys and history:
- `subject` ("proposal:12") replaces the `proposal` foreign key, which core cannot hold (a lower
  app never points at a higher one). It is filled from `proposal_id` before that column goes.
- The `proposal_id` column is dropped rather than kept without its model field: a column no
  model knows would keep its foreign key constraint, and deleting a proposal with notifications
  would then fail in the database instead of leaving them in the outbox.
The notifications of a proposal are therefore no longer deleted with it: the outbox keeps what
was sent. Going back puts the foreign key back for the rows whose proposal still exists."""

from django.db import migrations, models

FILL_SUBJECT = "UPDATE proposals_notification SET subject = 'proposal:' || proposal_id WHERE proposal_id IS NOT NULL"
FILL_PROPOSAL = (
    "UPDATE proposals_notification SET proposal_id = CAST(substr(subject, 10) AS integer) "
    "WHERE subject LIKE 'proposal:%' "
    "AND CAST(substr(subject, 10) AS integer) IN (SELECT id FROM proposals_proposal)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_notification"),
        ("proposals", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddField(
                    model_name="notification",
                    name="subject",
                    field=models.CharField(blank=True, db_index=True, default="", max_length=100),
                ),
                migrations.RunSQL(FILL_SUBJECT, reverse_sql=FILL_PROPOSAL),
                migrations.RemoveField(model_name="notification", name="proposal"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Notification"),
            ],
        ),
    ]
