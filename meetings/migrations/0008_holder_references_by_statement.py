"""On PostgreSQL a holder's register and account are checked once per statement instead of once
per row. A foreign key queues a check for every row inserted and runs them at commit: for a
million-holder import that was 4.5-5.3 s of a 26 s import (3.4 s for the register, 1.2 s for the
account, null as it is), against about 0.1 s for one check of the statement's distinct values.

The triggers keep what the foreign keys promised, under READ COMMITTED (Django's default and
ours): every register and account a holder names exists and is locked FOR KEY SHARE until the
writing transaction ends, so it cannot be deleted under it; deleting or renumbering a register or
an account that a holder still names fails. Both raise foreign_key_violation, which Django
raises as IntegrityError, as before.

SQLite keeps its foreign keys (the table is not rebuilt here): its triggers would be row by row,
gaining nothing, and could not be deferred as its constraints are. tests/meetings/
test_holder_references.py holds both databases to the same refusals."""

from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

HOLDER_CHECK = """
CREATE FUNCTION meetings_holder_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    registers bigint[];
    accounts integer[];
    found integer;
BEGIN
    SELECT array_agg(register_id) INTO registers FROM (SELECT register_id FROM new_holders GROUP BY 1) AS named;
    -- Locked, then counted: a register deleted by a transaction that committed meanwhile is not
    -- returned, so it is counted missing, never passed.
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM meetings_registersnapshot WHERE id = ANY(registers) FOR KEY SHARE
    ) AS locked;
    IF found <> coalesce(cardinality(registers), 0) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "meetings_holder" names a register that does not exist',
            TABLE = 'meetings_holder', COLUMN = 'register_id';
    END IF;
    SELECT array_agg(user_id) INTO accounts FROM (
        SELECT user_id FROM new_holders WHERE user_id IS NOT NULL GROUP BY 1
    ) AS named;
    SELECT count(*) INTO found FROM (SELECT 1 FROM auth_user WHERE id = ANY(accounts) FOR KEY SHARE) AS locked;
    IF found <> coalesce(cardinality(accounts), 0) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "meetings_holder" names an account that does not exist',
            TABLE = 'meetings_holder', COLUMN = 'user_id';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER meetings_holder_references_insert AFTER INSERT ON meetings_holder
    REFERENCING NEW TABLE AS new_holders FOR EACH STATEMENT EXECUTE FUNCTION meetings_holder_references_check();
CREATE TRIGGER meetings_holder_references_update AFTER UPDATE ON meetings_holder
    REFERENCING NEW TABLE AS new_holders FOR EACH STATEMENT EXECUTE FUNCTION meetings_holder_references_check();
"""


def _still_named(*, name: str, table: str, column: str, what: str) -> str:
    """A referenced table's trigger: deleting or renumbering a row that a holder names fails.
    An update looks only at the ids it changed (none, for every update Django makes), never the
    whole table."""
    return f"""
CREATE FUNCTION {name}_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        gone := EXISTS (SELECT 1 FROM meetings_holder h WHERE h.{column} IN (SELECT id FROM old_rows));
    ELSE
        gone := EXISTS (
            SELECT 1 FROM old_rows o
            WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
              AND EXISTS (SELECT 1 FROM meetings_holder h WHERE h.{column} = o.id)
        );
    END IF;
    IF gone THEN
        RAISE foreign_key_violation USING
            MESSAGE = '{what} that holders still name was deleted or renumbered', TABLE = '{table}';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {name}_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}_check();
CREATE TRIGGER {name}_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}_check();
"""  # noqa: S608 - our own table and column names


REFERENCED_CHECKS = _still_named(
    name="meetings_register_holders", table="meetings_registersnapshot", column="register_id", what="a register"
) + _still_named(name="meetings_account_holders", table="auth_user", column="user_id", what="an account")

DROP_CHECKS = """
DROP TRIGGER meetings_account_holders_update ON auth_user;
DROP TRIGGER meetings_account_holders_delete ON auth_user;
DROP FUNCTION meetings_account_holders_check();
DROP TRIGGER meetings_register_holders_update ON meetings_registersnapshot;
DROP TRIGGER meetings_register_holders_delete ON meetings_registersnapshot;
DROP FUNCTION meetings_register_holders_check();
DROP TRIGGER meetings_holder_references_update ON meetings_holder;
DROP TRIGGER meetings_holder_references_insert ON meetings_holder;
DROP FUNCTION meetings_holder_references_check();
"""

FOREIGN_KEYS = """
SELECT conname FROM pg_constraint
WHERE contype = 'f' AND conrelid = 'meetings_holder'::regclass
  AND confrelid IN ('meetings_registersnapshot'::regclass, 'auth_user'::regclass)
"""

RESTORE_FOREIGN_KEYS = """
ALTER TABLE meetings_holder
    ADD CONSTRAINT meetings_holder_register_id_fk_meetings_registersnapshot_id FOREIGN KEY (register_id)
        REFERENCES meetings_registersnapshot (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT meetings_holder_user_id_fk_auth_user_id FOREIGN KEY (user_id)
        REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED;
"""


def checks_by_statement(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FOREIGN_KEYS)
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE meetings_holder DROP CONSTRAINT "{name}"')
        cursor.execute(HOLDER_CHECK)
        cursor.execute(REFERENCED_CHECKS)


def foreign_keys_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP_CHECKS)
        cursor.execute(RESTORE_FOREIGN_KEYS)


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0007_control_digest_on_holder"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="holder",
                    name="register",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="holders",
                        to="meetings.registersnapshot",
                    ),
                ),
                migrations.AlterField(
                    model_name="holder",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="holdings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(checks_by_statement, foreign_keys_back)],
        ),
    ]
