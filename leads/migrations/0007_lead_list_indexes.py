import django.contrib.postgres.indexes
from django.db import migrations, models

import leads.models

PHONE_TRIGRAMS = """
CREATE FUNCTION lead_phone_trigrams(phone text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(DISTINCT substr(phone, i, 3)), '{}')
      FROM generate_series(1, length(phone) - 2) AS i $$
"""


class Migration(migrations.Migration):
    """Indexes for the lead list at 100,000 leads: score order with its tiebreaker, phone fragments."""

    dependencies = [
        ('leads', '0006_activity_appointment'),
    ]

    operations = [
        migrations.RunSQL(PHONE_TRIGRAMS, "DROP FUNCTION lead_phone_trigrams(text)"),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_score_idx',
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('is_deleted', False)), fields=['-lead_score', '-id'], name='lead_score_order_idx'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=django.contrib.postgres.indexes.GinIndex(leads.models.PhoneTrigrams('phone'), condition=models.Q(('is_deleted', False)), name='lead_phone_trigram_idx'),
        ),
    ]
