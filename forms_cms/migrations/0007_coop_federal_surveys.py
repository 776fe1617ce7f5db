"""The coopératives' federation collects three federal surveys instead of one « Enquête
fédérale » (tenants/platforms.py): on the coop platform's schema, ENQUETE_COOP becomes the
first survey when nothing was filed or uploaded for it (otherwise it is kept, after the three
surveys), and the other surveys are added, filed by every member.

Migrations run in every platform's schema: the coop platform's is the one holding QDIS_COOP or
ENQUETE_COOP. Only the document types are written here; platforms_sync's seed
(forms_cms.receivers.document_types_seed) then finds the three surveys by code.
"""

from django.db import migrations

OLD = "ENQUETE_COOP"
COOP_MARKERS = ("QDIS_COOP", OLD)
# (code, label, position): tenants/platforms.py's coop platform, after QDIS_COOP
SURVEYS = (
    ("ENQUETE_ACTIVITE", "Enquête activité", 1),
    ("ENQUETE_EFFECTIF", "Enquête effectif", 2),
    ("ENQUETE_SOCIETARIAT", "Enquête sociétariat", 3),
)


def _has_dossiers(connection, document_type_id: int) -> bool:
    """Whether a dossier of this document exists (the workflow app is above this one: its
    table is read, not its model)."""
    with connection.cursor() as cursor:
        if "workflow_dossier" not in connection.introspection.table_names(cursor):
            return False
        cursor.execute(
            "SELECT 1 FROM workflow_dossier WHERE document_type_id = %s LIMIT 1",
            [document_type_id],
        )
        return cursor.fetchone() is not None


def coop_surveys_split(apps, schema_editor) -> None:
    DocumentType = apps.get_model("forms_cms", "DocumentType")
    FormVersion = apps.get_model("forms_cms", "FormVersion")
    if not DocumentType.objects.filter(code__in=COOP_MARKERS).exists():
        return  # another platform's schema (or one not seeded yet)
    old = DocumentType.objects.filter(code=OLD).first()
    first_code, first_label, first_position = SURVEYS[0]
    if old is not None:
        unused = not FormVersion.objects.filter(document_type=old).exists() and not (
            _has_dossiers(schema_editor.connection, old.pk)
        )
        if unused and not DocumentType.objects.filter(code=first_code).exists():
            # its settings (who files it, deadline rules) stay with the renamed survey
            old.code, old.label, old.position = first_code, first_label, first_position
            old.save(update_fields=["code", "label", "position"])
        else:
            old.position = len(SURVEYS) + 1
            old.save(update_fields=["position"])
    for code, label, position in SURVEYS:
        DocumentType.objects.get_or_create(
            code=code, defaults={"label": label, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("forms_cms", "0006_document_type_filers"),
    ]

    operations = [
        migrations.RunPython(coop_surveys_split, migrations.RunPython.noop),
    ]
