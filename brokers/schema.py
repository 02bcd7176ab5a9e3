"""A new brokerage's schema in well under a second.

`migrate_schemas` on a new schema replays every migration of every app to rebuild model state
(about 2 s here, growing with each migration anywhere in the project), though only the tenant
apps create anything in it. Instead the tenant migrations are compiled once per process to SQL
(Django's own `collect_sql`, what `sqlmigrate` prints) and replayed in one round trip, with the
migration records written as `migrate` would. A plan with a RunPython step cannot be compiled;
then this returns False and django-tenants migrates the schema the ordinary way.
"""

from functools import cache

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.management import create_contenttypes
from django.db import connection, router
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import quote_schema_name, schema_exists

# Any tenant (non-public) schema name makes the router pick the tenant apps' operations.
_COMPILE_SCHEMA = "b__compile"
# Data steps that only rewrite existing rows: nothing to do in a brand-new schema.
_FRESH_SCHEMA_NOOPS = {("contenttypes", "0002_remove_content_type_name")}


def _has_data_step(migration) -> bool:
    """A RunPython that would run in a tenant schema (the router skips the shared-only apps)."""
    if (migration.app_label, migration.name) in _FRESH_SCHEMA_NOOPS:
        return False
    if not router.allow_migrate(connection.alias, migration.app_label):
        return False
    return any(isinstance(op, RunPython) for op in migration.operations)


@cache
def _compiled_plan() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None:
    """(SQL statements, applied migrations) of the whole tenant plan, or None if it has RunPython."""
    previous = connection.tenant
    connection.set_schema(_COMPILE_SCHEMA)
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
        if any(_has_data_step(migration) for migration, _ in plan):
            return None
        statements = executor.loader.collect_sql(plan)
    finally:
        connection.set_tenant(previous)
    return tuple(statements), tuple((m.app_label, m.name) for m, _ in plan)


def tenant_schema_create(schema_name: str) -> bool:
    """Create and fill `schema_name` from the compiled plan; False when the plan cannot be compiled."""
    compiled = _compiled_plan()
    if compiled is None or schema_exists(schema_name):
        return False
    statements, applied = compiled
    previous = connection.tenant
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
    connection.set_schema(schema_name)
    try:
        with connection.cursor() as cursor:
            cursor.execute("\n".join(statements))
        recorder = MigrationRecorder(connection)
        recorder.ensure_schema()
        recorder.migration_qs.bulk_create(recorder.Migration(app=app, name=name) for app, name in applied)
        for label in settings.TENANT_APPS:
            create_contenttypes(apps.get_app_config(label.rsplit(".", 1)[-1]), verbosity=0)
    finally:
        connection.set_tenant(previous)
    return True
