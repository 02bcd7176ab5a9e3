"""A schema made from the compiled migrations is the schema `migrate_schemas` makes."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from brokers.schema import tenant_schema_create


def unqualified(definition: str, schema: str) -> str:
    return definition.replace(f'"{schema}".', "").replace(f"{schema}.", "")


def schema_shape(schema: str) -> dict[str, set]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                       "WHERE table_schema = %s", [schema])
        columns = set(cursor.fetchall())
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", [schema])
        indexes = {(name, unqualified(definition, schema)) for name, definition in cursor.fetchall()}
        cursor.execute("SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                       "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s", [schema])
        constraints = {(name, unqualified(definition, schema)) for name, definition in cursor.fetchall()}
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def applied(schema: str) -> set[tuple[str, str]]:
    connection.set_schema(schema)
    try:
        return set(MigrationRecorder(connection).migration_qs.values_list("app", "name"))
    finally:
        connection.set_schema_to_public()


@pytest.mark.django_db
def test_compiled_schema_matches_a_migrated_one(cast):
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "b_slow"')
    call_command("migrate_schemas", tenant=True, schema_name="b_slow", interactive=False, verbosity=0)
    connection.set_schema_to_public()

    assert tenant_schema_create("b_fast") is True

    slow, fast = schema_shape("b_slow"), schema_shape("b_fast")
    assert slow["columns"]
    for part in ("columns", "indexes", "constraints"):
        assert fast[part] == slow[part], (part, fast[part] ^ slow[part])
    tenant_applied = applied("b_fast")
    assert tenant_applied <= applied("b_slow")
    assert {app for app, _ in tenant_applied} >= {"leads", "pipeline", "conversations"}


@pytest.mark.django_db
def test_existing_schema_is_left_alone(cast, broker_a):
    assert tenant_schema_create(broker_a.schema_name) is False
