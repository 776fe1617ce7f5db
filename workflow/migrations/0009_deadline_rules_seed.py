"""The ministry platform's default deadline rules, for platforms created before them (a new
platform gets them from tenants.platforms through workflow.receivers.platform_seed)."""

from django.db import migrations

# frozen copy of tenants.platforms' dhup deadlines as of this migration
RULES = (
    ("ER_SOCIAUX", "OPH", "PUBLIQUE", "after_approval", "", 15, False),
    ("ER_SOCIAUX", "OPH", "COMMERCE", "fixed", "15/07", 0, False),
    ("ER_SOCIAUX", "ESH", "", "month_after_assembly", "", 0, True),
    ("ER_SOCIAUX", "COOP", "", "month_after_assembly", "", 0, True),
    ("ER_SEM", "EPL", "", "month_after_assembly", "", 0, True),
)


def seed(apps, schema_editor):
    DocumentType = apps.get_model("forms_cms", "DocumentType")
    DeadlineRule = apps.get_model("workflow", "DeadlineRule")
    if DeadlineRule.objects.exists():
        return
    documents = {d.code: d for d in DocumentType.objects.filter(code__in={r[0] for r in RULES})}
    # only the ministry platform collects these documents; elsewhere nothing matches
    DeadlineRule.objects.bulk_create(
        DeadlineRule(
            document_type=documents[code],
            family=family,
            accounting=accounting,
            kind=kind,
            day=day,
            days=days,
            capped=capped,
        )
        for code, family, accounting, kind, day, days, capped in RULES
        if code in documents
    )


class Migration(migrations.Migration):
    dependencies = [("workflow", "0008_deadlines")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
