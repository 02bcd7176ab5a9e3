"""Re-encrypt every EncryptedTextField value with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys.
"""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django_tenants.utils import get_tenant_model, schema_context

from crm.encryption import EncryptedTextField, rotate


def encrypted_models(app_names: list[str]):
    """(model, column names) for every model of those apps with encrypted fields."""
    for model in apps.get_models():
        if model._meta.app_config.name in app_names:
            columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if columns:
                yield model, columns


def rotate_table(model, columns: list[str]) -> int:
    """Rotate raw tokens in place (MultiFernet.rotate keeps the plaintext, changes the key)."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {', '.join(map(quote, columns))} FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
        for row_id, *tokens in rows:
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                           [*(rotate(t) if t else t for t in tokens), row_id])
    return len(rows)


class Command(BaseCommand):
    help = "Re-encrypt stored secrets and sensitive fields with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        public_apps = [a for a in settings.SHARED_APPS if a not in settings.TENANT_APPS]
        with transaction.atomic():
            total = sum(rotate_table(m, c) for m, c in encrypted_models(public_apps))
            for tenant in get_tenant_model().objects.exclude(schema_name="public"):
                with schema_context(tenant.schema_name):
                    total += sum(rotate_table(m, c) for m, c in encrypted_models(settings.TENANT_APPS))
        self.stdout.write(self.style.SUCCESS(f"Rotated {total} rows."))
