"""The exit drills' reports in the operator's space: operator staff only (hotline and
maintenance); CGLLS, correspondents, platform users and visitors are refused, and a refused
answer carries nothing of the report."""

from __future__ import annotations

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

SECRET_TABLE = "dhup/table_temoin_du_rapport"


@pytest.fixture
def report():
    from reversibility.models import DrillReport

    now = timezone.now()
    summary = {
        "durations": [
            {"step": "export", "label": "Export de l'instance", "seconds": 1.5},
            {"step": "total", "label": "Total", "seconds": 26.1},
        ],
        "tables": [
            {"key": SECRET_TABLE, "schema": "dhup", "table": "table_temoin_du_rapport",
             "rows": 12, "imported": 12},
        ],
        "differences": [],
        "media_files": 0,
        "archive_mb": 1.2,
        "scratch_database": "exercice_reversibilite_x",
        "scratch_dropped": True,
        "not_transferred": ["sessions"],
        "accesses": {
            "database_roles": [{"role": "lecture_dhup", "schema": "dhup"}],
            "api_tokens": [],
            "accounts": [],
        },
    }  # fmt: skip
    return DrillReport.objects.create(
        started_at=now,
        finished_at=now,
        outcome=DrillReport.Outcome.SUCCESS,
        run_by="Exploitant",
        tables=1,
        rows=12,
        summary=summary,
        markdown=f"# Exercice\n\n| dhup | {SECRET_TABLE} |\n",
        pdf=b"%PDF-1.7 rapport",
    )


def urls(report) -> list[str]:
    base = f"/operateur/reversibilite/{report.pk}/"
    return ["/operateur/reversibilite/", base, f"{base}pdf/", f"{base}md/"]


@pytest.mark.parametrize("role", ["hotline", "maintenance"])
def test_operator_staff_list_read_and_download(client_for, demo_user, report, role):
    client = client_for("public", demo_user("public", role))
    listing = client.get("/operateur/reversibilite/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Réussi : aucune différence" in page and f"/operateur/reversibilite/{report.pk}/" in page
    detail = client.get(f"/operateur/reversibilite/{report.pk}/").content.decode()
    assert (
        "table_temoin_du_rapport" in detail and "db_readonly_revoke --role lecture_dhup" in detail
    )
    pdf = client.get(f"/operateur/reversibilite/{report.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content == b"%PDF-1.7 rapport"
    assert "attachment" in pdf["Content-Disposition"]
    markdown = client.get(f"/operateur/reversibilite/{report.pk}/md/")
    assert markdown["Content-Type"].startswith("text/markdown")
    assert SECRET_TABLE in markdown.content.decode()
    assert client.get(f"/operateur/reversibilite/{report.pk + 1000}/").status_code == 404


@pytest.mark.parametrize("role", ["cglls", "correspondant"])
def test_other_public_roles_are_refused_without_a_word_of_the_report(
    client_for, demo_user, report, role
):
    client = client_for("public", demo_user("public", role))
    for url in urls(report):
        response = client.get(url)
        assert response.status_code == 403, url
        body = response.content.decode()
        assert "table_temoin" not in body and "%PDF" not in body and "lecture_dhup" not in body


@pytest.mark.parametrize("role", ["gestionnaire", "organisme", "partenaire-cdc", "editeur"])
def test_platform_users_do_not_have_these_pages(client_for, demo_user, report, role):
    client = client_for("dhup", demo_user("dhup", role))
    for url in urls(report):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "table_temoin" not in response.content.decode()


def test_visitors_are_sent_to_sign_in(client_for, report):
    client = client_for("public")
    for url in urls(report):
        response = client.get(url)
        assert response.status_code == 302 and "/comptes/connexion/" in response["Location"]
        assert b"table_temoin" not in response.content
