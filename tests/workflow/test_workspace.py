"""The gestionnaire's workspace: every organism, its dossier's step, filters, moves, exports."""

from __future__ import annotations

import html
import io

import openpyxl
import pytest
from django_tenants.utils import schema_context

from organisms.models import Organism
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from workflow.actions import dossier_transition
from workflow.models import Campaign, FiabilisationStep

from .test_lifecycle import dossier, gestionnaire  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def transmitted(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        dossier_transition(dossier=dossier, action="validate", acting_user=declarant)
        dossier_transition(dossier=dossier, action="transmit", acting_user=declarant)
        _ = dossier.organism  # loaded inside the platform's schema
    return dossier


def url(campaign_pk, query=""):
    return f"/campagnes/{campaign_pk}/dossiers/{query}"


def test_every_organism_with_its_step_and_counts(transmitted, gestionnaire, client_for):  # noqa: F811
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        # those bound to file the ER sociaux: the OPH, ESH and coopératives, not every organism
        active = Organism.objects.filter(is_active=True, family__in=["OPH", "ESH", "COOP"]).count()
        assert active < Organism.objects.filter(is_active=True).count()
    client = client_for("dhup", gestionnaire)
    page = client.get(url(campaign.pk)).content.decode()
    # the dossiers are listed; the organisms without one are a count with a link
    assert "1 dossier listé" in page and transmitted.organism.siren in page
    notice = page[page.index('data-testid="not-started"') :][:600]
    assert f"{active - 1} organismes n'ont pas encore ouvert de dossier" in html.unescape(notice)
    assert "steps=0" in notice
    assert "0 — Non initialisé" in page and "4 — Fiabilisation" in page
    counts = page[page.index('data-testid="step-counts"') :][:6000]
    assert f'data-testid="count">{active - 1}</a>' in counts  # not initialised
    assert 'data-step="4"><th scope="row">4 — Fiabilisation</th>' in counts
    assert 'data-testid="count">1</a>' in counts  # step 4
    everyone = client.get(url(campaign.pk, "?steps=0&steps=4")).content.decode()
    assert f"{active} dossiers listés" in everyone


def test_transmitted_and_recent_dossiers_come_first(transmitted, gestionnaire, client_for):  # noqa: F811
    from workflow.workspace import workspace_rows

    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        er = campaign.document_types.get(code="ER_SOCIAUX")
        rows, _ = workspace_rows(campaign=campaign, document_type=er, filters={})
    assert rows[0].dossier == transmitted
    assert all(r.dossier is None for r in rows[1:])


def test_filters(transmitted, gestionnaire, client_for):  # noqa: F811
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        er = campaign.document_types.get(code="ER_SOCIAUX")
    organism = transmitted.organism
    base = f"?document_type={er.pk}"
    only_4 = client.get(url(campaign.pk, base + "&steps=4")).content.decode()
    assert "1 dossier listé" in only_4 and organism.siren in only_4
    by_siren = client.get(url(campaign.pk, base + f"&q={organism.siren[:3]} {organism.siren[3:]}"))
    assert "1 dossier listé" in by_siren.content.decode()
    other_family = next(f for f in ("OPH", "ESH", "COOP", "EPL") if f != organism.family)
    by_family = client.get(url(campaign.pk, base + f"&family={other_family}&steps=4"))
    assert "0 dossier listé" in by_family.content.decode()
    failing = client.get(url(campaign.pk, base + "&failing=on")).content.decode()
    assert "0 dossier listé" in failing


def test_bulk_move_and_exports(transmitted, gestionnaire, client_for):  # noqa: F811
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        target = FiabilisationStep.objects.get(code="4.5")
    response = client.post(
        url(campaign.pk, "deplacer/"), {"dossier": [transmitted.pk], "substep": target.pk}
    )
    assert response.status_code == 302
    with schema_context("dhup"):
        transmitted.refresh_from_db()
        assert transmitted.substep_id == target.pk
    csv_text = client.get(url(campaign.pk, "export.csv")).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("SIREN;Raison sociale;Famille")
    assert f"{transmitted.organism.siren};" in csv_text and ";4.5;" in csv_text
    xlsx = client.get(url(campaign.pk, "export.xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "SIREN"
    assert any(row[5] == "4.5" for row in sheet.iter_rows(values_only=True))


def test_workspace_is_for_gestionnaires_only(transmitted, client_for, demo_user):  # noqa: F811
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
    for username in ("organisme", "partenaire-cdc", "editeur"):
        client = client_for("dhup", demo_user("dhup", username))
        assert client.get(url(campaign.pk)).status_code == 403
        assert client.get(url(campaign.pk, "export.csv")).status_code == 403
    other = client_for("oph", demo_user("oph", "gestionnaire"))
    assert other.get(url(campaign.pk)).status_code in (404, 200)
    # on oph, that campaign id is oph's own campaign (or none): never dhup's dossiers
    assert transmitted.organism.siren not in other.get(url(campaign.pk)).content.decode()


def test_query_count_is_bounded(
    transmitted, gestionnaire, client_for, django_assert_max_num_queries
):  # noqa: F811
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
    # 27: includes the footer's version and maintenance banner (one query on public), the
    # deadlines' rules, approvals and prorogations, the last reminders, and the private
    # annotations' flags and note counts (one query each, whatever the rows)
    with django_assert_max_num_queries(27):
        assert client.get(url(campaign.pk)).status_code == 200


def _many_dossiers(count: int, version):
    from organisms.models import Organism
    from workflow.models import Dossier

    organisms = list(Organism.objects.order_by("siren")[:count])
    steps = ["1", "2", "3", "4", "4R", "5"]
    substep = FiabilisationStep.objects.first()
    Dossier.objects.bulk_create(
        Dossier(
            organism=o,
            campaign=version.campaign,
            document_type=version.document_type,
            form_version=version,
            step=steps[i % len(steps)],
            substep=substep if steps[i % len(steps)] in ("4", "4R") else None,
        )
        for i, o in enumerate(organisms)
    )


def test_query_count_does_not_grow_with_the_dossiers(version, gestionnaire, client_for):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
    counts = []
    for total in (5, 300):
        with schema_context("dhup"):
            from workflow.models import Dossier

            Dossier.objects.all().delete()
            _many_dossiers(total, version)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(campaign.pk, "?steps=4&steps=0&family=OPH"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_row_escapes_what_the_registry_holds(transmitted, gestionnaire, client_for):  # noqa: F811
    """The rows are drawn in Python (workflow/templatetags/workspace_rows.py): a name with
    markup shows as text, in the cell and in the checkbox's label."""
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        Organism.objects.filter(pk=transmitted.organism_id).update(
            name='Office <script>alert("x")</script> & « Cie »'
        )
    page = client_for("dhup", gestionnaire).get(url(campaign.pk)).content.decode()
    row = page[page.index(f'<tr data-siren="{transmitted.organism.siren}">') :]
    row = row[: row.index("</tr>")]
    assert "<script>" not in row
    named = "Office &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; « Cie »"
    assert f">{named}</a>" in row  # the link to the dossier
    assert f'aria-label="Sélectionner {named} (déplacer)"' in row
    assert f'href="/declarations/dossiers/{transmitted.pk}/"' in row
    assert 'data-step="4"' in row and "4 — Fiabilisation" in row
