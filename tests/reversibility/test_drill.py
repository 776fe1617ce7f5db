"""The exit drill on a copy of the test database (demo data): export, a new instance built in
a scratch database, import, comparison, a stored report; the scratch database is dropped, also
when the drill fails."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from tests.dbbuild import _admin_connection, use_database
from tests.reversibility.instances import copy_database, drop_database
from tests.reversibility.test_archive import seed


def scratch_databases() -> list[str]:
    with _admin_connection() as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'exercice_reversibilite_%'"
        ).fetchall()
    return [name for (name,) in rows]


@pytest.fixture
def source(django_db_setup, django_db_blocker, tmp_path):
    """A copy of the test database, used as the instance the drill runs on."""
    from django.test import override_settings

    main = settings.DATABASES["default"]["NAME"]
    name = f"{main}_drill_source"
    with django_db_blocker.unblock():
        copy_database(main, name)
        use_database(name)
        try:
            with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
                yield name
        finally:
            connection.set_schema_to_public()
            use_database(main)
            drop_database(name)


def test_the_drill_on_the_demo_data_finds_no_difference(source, capsys):
    from django_tenants.utils import schema_context

    from accounts.models import User
    from declarations.models import ApiToken
    from reversibility.models import DrillReport

    seed()
    with schema_context("dhup"):
        user = User.objects.get(username="organisme")
        ApiToken.objects.create(user=user, name="PGI test", prefix="drill123", key_hash="x" * 64)
    connection.set_schema_to_public()
    before = scratch_databases()

    call_command("reversibility_drill", by="Exploitant (test)")

    out = capsys.readouterr().out
    assert "Réussi : aucune différence" in out and "0 différence(s)" in out
    report = DrillReport.objects.get()
    assert report.outcome == DrillReport.Outcome.SUCCESS
    assert report.differences == 0 and report.summary["differences"] == []
    assert report.run_by == "Exploitant (test)"
    tables = {t["key"]: t for t in report.summary["tables"]}
    assert tables["dhup/organisms_organism"]["rows"] == 829
    assert all(t["rows"] == t["imported"] for t in tables.values())
    assert report.tables == len(tables) > 100 and report.rows > 1000
    assert tables["dhup/exchanges_attachment"]["rows"] == 1
    assert tables["dhup/workflow_dossierexport"]["rows"] >= 1
    assert report.summary["media_files"] == 1
    steps = [d["step"] for d in report.summary["durations"]]
    assert steps == ["export", "new_instance", "import", "total"]
    # the accesses to revoke: the token just made, the operator's staff accounts
    accesses = report.summary["accesses"]
    assert [t["prefix"] for t in accesses["api_tokens"]] == ["drill123"]
    assert {"hotline", "maintenance"} <= {a["username"] for a in accesses["accounts"]}
    assert bytes(report.pdf).startswith(b"%PDF-")
    assert "Différences : **0**" in report.markdown
    assert "drill123" in report.markdown and "db_readonly_revoke" not in report.markdown
    # the scratch database is gone
    assert report.summary["scratch_dropped"] is True
    assert scratch_databases() == before


def test_a_failed_drill_drops_its_scratch_database_and_reports_the_failure(source, monkeypatch):
    from reversibility import drill
    from reversibility.models import DrillReport

    created = []

    def broken_migration(*args, **kwargs):
        created.append(settings.DATABASES["default"]["NAME"])
        raise RuntimeError("migration interrompue")

    monkeypatch.setattr(drill, "call_command", broken_migration)
    before = scratch_databases()
    with pytest.raises(CommandError, match="a échoué .*RuntimeError: migration interrompue"):
        call_command("reversibility_drill")
    # the failure happened inside the scratch database, which no longer exists
    assert created and created[0].startswith("exercice_reversibilite_")
    assert scratch_databases() == before
    assert settings.DATABASES["default"]["NAME"] == source
    report = DrillReport.objects.get()
    assert report.outcome == DrillReport.Outcome.FAILED
    assert "migration interrompue" in report.error
    assert report.summary["scratch_dropped"] is True
    assert "Comparaison non faite" in report.markdown
