"""The holder's single-column index on its register goes: the two composite indexes that lead
with the register ((register, account), unique, and (register, user)) answer every query by
register, and the statement-level reference check (0008) asks only whether one exists. One index
fewer to build on every holder a register import writes (a million of them in bench/)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The name Django gave the foreign key's index in 0001 (the same on every backend).
INDEX = "meetings_holder_register_id_e9c47a97"


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


def restore_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name(INDEX)} ON meetings_holder (register_id)")


class Migration(migrations.Migration):
    dependencies = [("meetings", "0008_holder_references_by_statement")]

    operations = [
        # State and database apart: on SQLite an altered field rebuilds the table, which would
        # also drop the foreign keys 0008 left there.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="holder",
                    name="register",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="holders",
                        to="meetings.registersnapshot",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, restore_index)],
        ),
    ]
