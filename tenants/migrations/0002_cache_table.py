# The shared cache (settings.CACHES, Django's DatabaseCache): one table in the public schema,
# which every platform's search_path also reaches, so that every web node and worker reads
# the same entries. Created by the migrations rather than by `manage.py createcachetable` so
# that no deployment (make migrate, the test database, a new server) can forget it; the
# columns are createcachetable's, and IF NOT EXISTS keeps a table it made.

from django.db import migrations

TABLE = "harmonia_cache"


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                f'CREATE TABLE IF NOT EXISTS "{TABLE}" ('
                '"cache_key" varchar(255) NOT NULL PRIMARY KEY, '
                '"value" text NOT NULL, '
                '"expires" timestamp with time zone NOT NULL)',
                f'CREATE INDEX IF NOT EXISTS "{TABLE}_expires" ON "{TABLE}" ("expires")',
            ],
            reverse_sql=[f'DROP TABLE IF EXISTS "{TABLE}"'],
        ),
    ]
