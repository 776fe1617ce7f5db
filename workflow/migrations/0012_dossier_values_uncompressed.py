"""A dossier's values and computed values stored out of line without compression.

Each save merges its changes into these two documents (``values || patch``); PostgreSQL then
writes the whole new document again. With pglz compression that write cost ~10 ms for a full
ER Sociaux (6,000 values, 3,700 computed: 420 kB of JSON, 120 kB compressed); uncompressed,
~4 ms. Reads cost the same (the server decompressed before sending anyway); the disk holds
~450 kB per full dossier instead of ~120 kB, ~0.4 GB for a whole ER Sociaux campaign."""

from django.db import migrations

COLUMNS = ('"values"', "computed")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0011_dossier_prefilled_and_carry_over_sources")]

    operations = [
        migrations.RunSQL(
            sql=[
                f"ALTER TABLE workflow_dossier ALTER COLUMN {column} SET STORAGE EXTERNAL"
                for column in COLUMNS
            ],
            reverse_sql=[
                f"ALTER TABLE workflow_dossier ALTER COLUMN {column} SET STORAGE EXTENDED"
                for column in COLUMNS
            ],
        )
    ]
