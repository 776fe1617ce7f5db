"""A version's change list moves to its own table: every dossier read joins the dossier's
form version, and the list of a rearranged ER Sociaux (every cell moved) is ~1.4 MB of JSON,
which made a cell save 2.5 times slower."""

import django.db.models.deletion
from django.db import migrations, models


def move_changes(apps, schema_editor):
    FormVersion = apps.get_model("forms_cms", "FormVersion")
    VersionChanges = apps.get_model("forms_cms", "VersionChanges")
    VersionChanges.objects.bulk_create(
        VersionChanges(version_id=pk, changes=changes)
        for pk, changes in FormVersion.objects.exclude(changes={}).values_list("pk", "changes")
    )


def move_back(apps, schema_editor):
    FormVersion = apps.get_model("forms_cms", "FormVersion")
    VersionChanges = apps.get_model("forms_cms", "VersionChanges")
    for pk, changes in VersionChanges.objects.values_list("version_id", "changes"):
        FormVersion.objects.filter(pk=pk).update(changes=changes)


class Migration(migrations.Migration):
    dependencies = [
        ("forms_cms", "0013_documents_decoded_with_orjson"),
    ]

    operations = [
        migrations.CreateModel(
            name="VersionChanges",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("changes", models.JSONField(default=dict, verbose_name="changements")),
                ("version", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="change_list", to="forms_cms.formversion")),
            ],
            options={
                "verbose_name": "changements de version",
                "verbose_name_plural": "changements de versions",
            },
        ),
        migrations.RunPython(move_changes, move_back),
        migrations.RemoveField(
            model_name="formversion",
            name="changes",
        ),
    ]
