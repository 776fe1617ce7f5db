"""Controls (contrôles métiers), key aggregates and "Lancer la vérification"."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from forms_cms.controls import (
    RuleRefused,
    aggregate_create,
    control_create,
    control_enable,
    control_update,
    controls_carry_over,
)
from forms_cms.models import Aggregate, Control, FormVersion
from forms_cms.verification import (
    ERROR,
    FAILED,
    PASSED,
    dossier_blocking_failures,
    dossier_verify,
)
from tests.helpers import text_of
from workflow.models import Dossier

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import NAMES, SHEETS, upload
from .test_online_form import declarant, open_dossier, outsider, version  # noqa: F401

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def add_control(version, user, **values):
    values = {"label": "Contrôle", **values}
    with schema_context("dhup"):
        return control_create(version=version, values=values, acting_user=user)


def with_values(dossier, **values):
    """Store input values as the online form would (numbers as floats)."""
    with schema_context("dhup"):
        dossier.values = {k: float(v) if isinstance(v, int) else v for k, v in values.items()}
        dossier.save(update_fields=["values"])
    return dossier


def verify(dossier):
    with schema_context("dhup"):
        return dossier_verify(dossier)


def by_code(report):
    return {r.code: r for r in report.results}


# rules are checked when saved ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"left": "=INCONNU+1", "right": "0"}, "left", "le champ INCONNU n'existe pas"),
        ({"left": "TOTAL_ACTIF", "right": "=Actif!B5"}, "right", "par leur nom"),
        ({"left": "=TOTAL_ACTIF+", "right": "1"}, "left", "formule illisible"),
        ({"left": "=XLOOKUP(1,ACT_IMMO,ACT_IMMO)", "right": "1"}, "left", "XLOOKUP"),
        ({"kind": "condition", "condition": "=ABS(ACTIF_X)<1"}, "condition", "ACTIF_X"),
        ({"kind": "condition", "condition": ""}, "condition", "obligatoire"),
        ({"left": "1", "right": "1", "message": "écart {ecart} sur {FOO}"}, "message", "{FOO}"),
        ({"left": "1", "right": "1", "sheet": "Inexistante"}, "sheet", "n'existe pas"),
    ],
)
def test_a_rule_that_does_not_compile_is_refused_and_nothing_saved(
    version, gestionnaire, values, field, message
):
    with pytest.raises(RuleRefused) as caught:
        add_control(version, gestionnaire, code="C001", **values)
    assert message in caught.value.errors[field]
    with schema_context("dhup"):
        assert not Control.objects.filter(version=version).exists()


def test_codes_are_unique_per_version_and_only_gestionnaires_manage(
    version, gestionnaire, declarant
):
    control = add_control(version, gestionnaire, code="C001", left="ACT_IMMO", right="0")
    assert control.left == "=ACT_IMMO" and control.position == 10
    with pytest.raises(RuleRefused) as caught:
        add_control(version, gestionnaire, code="c001", left="ACT_IMMO", right="0")
    assert "déjà utilisé" in caught.value.errors["code"]
    with schema_context("dhup"):
        with pytest.raises(PermissionDenied):
            control_create(
                version=version,
                values={"code": "C9", "label": "x", "left": "1", "right": "1"},
                acting_user=declarant,
            )
        # an edit that breaks the rule is refused and the stored rule is unchanged
        with pytest.raises(RuleRefused):
            control_update(control=control, values={"left": "=NOPE"}, acting_user=gestionnaire)
        control.refresh_from_db()
        assert control.left == "=ACT_IMMO"
        assert Control.objects.filter(version=version).count() == 1


def test_management_screens(version, gestionnaire, client_for):
    client = client_for("dhup", gestionnaire)
    base = f"/formulaires/{version.pk}/controles/"
    assert "Contrôles et agrégats" in client.get(f"/formulaires/{version.pk}/").content.decode()
    form = {
        "code": "C001",
        "label": "Actif = passif",
        "severity": "blocking",
        "kind": "comparison",
        "left": "TOTAL_ACTIF",
        "operator": "=",
        "right": "TOTAL_PASIF",  # typo: refused, naming the field
        "tolerance": "1,5",
        "condition": "",
        "message": "",
        "sheet": "",
        "position": "",
        "enabled": "on",
    }
    refused = client.post(f"{base}ajouter/", form)
    assert refused.status_code == 200
    assert "le champ TOTAL_PASIF n&#x27;existe pas" in refused.content.decode()
    with schema_context("dhup"):
        assert not Control.objects.exists()
    form["right"] = "TOTAL_PASSIF"
    assert client.post(f"{base}ajouter/", form).status_code == 302
    with schema_context("dhup"):
        control = Control.objects.get(version=version)
    assert control.tolerance == Decimal("1.5") and control.created_by == gestionnaire
    listing = client.get(base).content.decode()
    assert "TOTAL_ACTIF = TOTAL_PASSIF ± 1,5" in listing
    # edit, disable, enable, delete
    form["label"] = "Équilibre du bilan"
    assert client.post(f"{base}{control.pk}/", form).status_code == 302
    assert client.post(f"{base}{control.pk}/activer/").status_code == 302
    with schema_context("dhup"):
        control.refresh_from_db()
    assert (control.label, control.enabled) == ("Équilibre du bilan", False)
    client.post(f"{base}{control.pk}/activer/")
    with schema_context("dhup"):
        control.refresh_from_db()
    assert control.enabled
    assert "définitive" in client.get(f"{base}{control.pk}/supprimer/").content.decode()
    assert client.post(f"{base}{control.pk}/supprimer/").status_code == 302
    # aggregates
    aggregate = {"tab": "SF", "code": "SF1", "label": "Fonds", "formula": "=TOTAL_ACTIF*",
                 "data_type": "amount", "position": ""}  # fmt: skip
    refused = client.post(f"/formulaires/{version.pk}/agregats/ajouter/", aggregate)
    assert "formule illisible" in refused.content.decode()
    aggregate["formula"] = "TOTAL_ACTIF-PAS_CAPITAL"
    assert client.post(f"/formulaires/{version.pk}/agregats/ajouter/", aggregate).status_code == 302
    with schema_context("dhup"):
        saved = Aggregate.objects.get(version=version)
        assert not Control.objects.filter(version=version).exists()
    assert saved.formula == "=TOTAL_ACTIF-PAS_CAPITAL"
    delete = f"/formulaires/{version.pk}/agregats/{saved.pk}/supprimer/"
    assert client.post(delete).status_code == 302


# verification --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operator", "immo", "passes"),
    [
        ("=", 1001, True),  # gap exactly at the tolerance
        ("=", 999, True),
        ("=", 1001.01, False),  # just above
        ("=", 998.99, False),
        ("<>", 1001, False),
        ("<>", 1001.01, True),
        ("<=", 1001, True),
        ("<=", 1001.01, False),
        ("<", 1000.99, True),
        ("<", 1001, False),
        (">=", 999, True),
        (">=", 998.99, False),
        (">", 999.01, True),
        (">", 999, False),
    ],
)
def test_tolerance_boundaries(version, declarant, gestionnaire, operator, immo, passes):
    add_control(
        version,
        gestionnaire,
        code="T1",
        left="ACT_IMMO",
        operator=operator,
        right="PAS_CAPITAL",
        tolerance=Decimal("1"),
    )
    dossier = with_values(open_dossier(declarant), ACT_IMMO=immo, PAS_CAPITAL=1000)
    result = by_code(verify(dossier))["T1"]
    assert result.status == (PASSED if passes else FAILED)


def test_messages_show_the_values_in_french(version, declarant, gestionnaire):
    add_control(
        version, gestionnaire, code="C1", left="ACT_IMMO", right="PAS_CAPITAL",
        tolerance=Decimal("0.5"),
    )  # fmt: skip
    add_control(
        version, gestionnaire, code="C2", left="SUM(ACT_IMMO,TC_ACT_STOCKS)", operator=">=",
        right="PAS_CAPITAL*2", message="Actif {gauche} < {droite} ; capital {PAS_CAPITAL} "
        "(écart {ecart}, tolérance {tolerance}, {operateur})",
    )  # fmt: skip
    add_control(
        version, gestionnaire, code="C3", kind="condition", severity="warning",
        condition="=AND(PAS_CAPITAL>0,ACT_IMMO<1000)",
    )  # fmt: skip
    dossier = with_values(open_dossier(declarant), ACT_IMMO=1234.5, PAS_CAPITAL=1000)
    results = by_code(verify(dossier))
    c1 = results["C1"]
    assert c1.status == FAILED
    assert (c1.left, c1.right, c1.gap) == (f"1{NNBSP}234,50", f"1{NNBSP}000", "234,50")
    assert c1.message == (
        f"Attendu : ACT_IMMO = PAS_CAPITAL à 0,50 près. Valeurs : 1{NNBSP}234,50 et "
        f"1{NNBSP}000, écart 234,50."
    )
    assert results["C2"].message == (
        f"Actif 1{NNBSP}234,50 < 2{NNBSP}000 ; capital 1{NNBSP}000 (écart 765,50, tolérance 0, ≥)"
    )
    c3 = results["C3"]
    assert (c3.status, c3.severity, c3.blocking) == (FAILED, "warning", False)
    assert c3.message == (
        "Condition non satisfaite : AND(PAS_CAPITAL>0,ACT_IMMO<1000). Valeurs : "
        f"PAS_CAPITAL = 1{NNBSP}000 ; ACT_IMMO = 1{NNBSP}234,50."
    )
    # cells involved, with where they are
    assert [(c.name, c.address, c.sheet_index) for c in c1.cells] == [
        ("ACT_IMMO", "Actif!B3", 0),
        ("PAS_CAPITAL", "Passif!B3", 1),
    ]
    assert (c1.sheet, c3.sheet) == ("Actif", "Passif")  # the first field cited


def test_blocking_and_warning_failures(version, declarant, gestionnaire):
    add_control(version, gestionnaire, code="B1", left="TOTAL_ACTIF", operator=">", right="0")
    add_control(
        version, gestionnaire, code="W1", left="PAS_CAPITAL", operator=">", right="0",
        severity="warning",
    )  # fmt: skip
    add_control(version, gestionnaire, code="OK", left="TOTAL_ACTIF", right="TOTAL_PASSIF")
    dossier = open_dossier(declarant)  # empty: every amount is 0
    report = verify(dossier)
    assert [r.code for r in report.blocking_failures] == ["B1"]
    assert [r.code for r in report.warnings] == ["W1"]
    assert [r.code for r in report.passed] == ["OK"]
    with schema_context("dhup"):
        assert [r.code for r in dossier_blocking_failures(dossier)] == ["B1"]
    with_values(dossier, ACT_IMMO=10)
    with schema_context("dhup"):
        assert dossier_blocking_failures(dossier) == []
    # grouped by sheet, the sheet with a blocking failure first
    assert [g.sheet for g in report.groups] == ["Actif", "Passif"]
    assert [r.code for r in report.groups[0].results] == ["B1", "OK"]


def test_error_values_count_as_failures(version, declarant, gestionnaire):
    add_control(
        version, gestionnaire, code="D1", kind="condition", condition="=ACT_IMMO/PAS_CAPITAL>1"
    )
    add_control(
        version, gestionnaire, code="D2", left="ACT_IMMO/PAS_CAPITAL", right="1",
        severity="warning",
    )  # fmt: skip
    add_control(version, gestionnaire, code="D3", kind="condition", condition='="texte"')
    dossier = with_values(open_dossier(declarant), ACT_IMMO=5)
    results = by_code(verify(dossier))
    assert results["D1"].status == ERROR and results["D1"].blocking
    assert results["D1"].message == "Calcul impossible : la condition donne #DIV/0! " + (
        "(division par zéro)."
    )
    assert results["D2"].failed and not results["D2"].blocking
    assert "le membre de gauche donne #DIV/0!" in results["D2"].message
    assert results["D3"].status == ERROR and "VRAI ou FAUX" in results["D3"].message


def test_disabled_rules_are_skipped(version, declarant, gestionnaire):
    control = add_control(version, gestionnaire, code="X1", left="ACT_IMMO", right="-1")
    dossier = open_dossier(declarant)
    assert [r.code for r in verify(dossier).blocking_failures] == ["X1"]
    with schema_context("dhup"):
        control_enable(control=control, enabled=False, acting_user=gestionnaire)
    report = verify(dossier)
    assert report.results == [] and report.blocking_failures == []
    with schema_context("dhup"):
        assert dossier_blocking_failures(dossier) == []


def test_aggregates_computed_and_shown_in_tabs(version, declarant, gestionnaire, client_for):
    with schema_context("dhup"):
        for values in (
            {"tab": "SF", "code": "FR", "label": "Fonds de roulement", "formula": "TOTAL_ACTIF"},
            {"tab": "SF", "code": "CAP", "label": "Capital", "formula": "PAS_CAPITAL"},
            {"tab": "AE", "code": "TX", "label": "Taux", "formula": "PAS_CAPITAL/TOTAL_PASSIF",
             "data_type": "percentage"},
            {"tab": "AE", "code": "ERR", "label": "Ratio", "formula": "ACT_IMMO/TC_ACT_STOCKS"},
        ):  # fmt: skip
            aggregate_create(version=version, values=values, acting_user=gestionnaire)
    dossier = with_values(open_dossier(declarant), ACT_IMMO=1500.5, PAS_CAPITAL=400)
    report = verify(dossier)
    tabs = {tab: {a.code: a.value for a in items} for tab, items in report.tabs}
    assert tabs == {
        "SF": {"FR": f"1{NNBSP}500,50", "CAP": "400"},
        "AE": {"TX": "26,66\u00a0%", "ERR": "#DIV/0!"},
    }
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/verification/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-tab="SF"' in html and 'data-tab="AE"' in html
    assert f"1{NNBSP}500,50" in html and "Fonds de roulement" in html and "division par z" in html
    second = client_for("dhup", declarant).get(
        f"/declarations/dossiers/{dossier.pk}/verification/?onglet=AE"
    )
    assert 'href="?onglet=AE" aria-current="page"' in second.content.decode()


def test_verification_page(version, declarant, gestionnaire, client_for, demo_user):
    add_control(
        version, gestionnaire, code="C001", label="Capital positif", left="PAS_CAPITAL",
        operator=">", right="0",
    )  # fmt: skip
    add_control(version, gestionnaire, code="C002", left="TOTAL_ACTIF", right="TOTAL_PASSIF")
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    sheet = client.get(f"/declarations/dossiers/{dossier.pk}/").content.decode()
    url = f"/declarations/dossiers/{dossier.pk}/verification/"
    assert f'href="{url}"' in sheet and "Lancer la vérification" in sheet
    html = client.post(url).content.decode()
    assert "1 bloquant en échec" in html and "1 satisfait" in html
    assert "Capital positif" in html
    assert f'href="/declarations/dossiers/{dossier.pk}/feuilles/1/#PAS_CAPITAL"' in html
    assert "Passif!B3" in html
    assert "ne pourra pas être transmis" in html
    with_values(dossier, PAS_CAPITAL=10)
    html = client.get(url).content.decode()
    assert "0 bloquant en échec" in html and "2 satisfaits" in html
    colleague = client_for("dhup", demo_user("dhup", "organisme2"))  # same organism
    assert "0 bloquant en échec" in colleague.get(url).content.decode()


def test_verification_page_query_count_is_bounded(
    version, declarant, gestionnaire, client_for, django_assert_max_num_queries
):
    with schema_context("dhup"):
        aggregate_create(
            version=version,
            values={"tab": "SF", "code": "SF", "label": "SF", "formula": "TOTAL_ACTIF"},
            acting_user=gestionnaire,
        )
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{dossier.pk}/verification/"
    counts = []
    for number in (3, 30):
        for i in range(len(counts) * 3, number):
            add_control(version, gestionnaire, code=f"C{i:03d}", left="ACT_IMMO", right=str(i))
        client.get(url)  # fills the per-process caches (compiled form, fields, rules)
        # host and session lookups, user, membership, dossier, controls, aggregates, and the
        # deadline in the dossier's head (rules, approval, prorogations)
        with django_assert_max_num_queries(17) as captured:
            response = client.get(url)
        assert response.content.decode().count('data-testid="control"') == number
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]  # not one more query per control


# carrying rules over to the next version -------------------------------------------------------
def test_carry_over_to_the_next_version(version, gestionnaire, client_for):
    add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="0", operator=">=")
    add_control(
        version, gestionnaire, code="C2", left="TOTAL_ACTIF", right="TOTAL_PASSIF", sheet="Passif"
    )
    with schema_context("dhup"):
        aggregate_create(
            version=version,
            values={"tab": "SF", "code": "SF", "label": "Immo", "formula": "ACT_IMMO*2"},
            acting_user=gestionnaire,
        )
        aggregate_create(
            version=version,
            values={"tab": "SF", "code": "TA", "label": "Total", "formula": "TOTAL_ACTIF"},
            acting_user=gestionnaire,
        )
    names = {k: v for k, v in NAMES.items() if k != "ACT_IMMO"} | {"ACT_IMMO_NET": "Actif!$B$3"}
    new = upload("dhup", workbook_bytes(SHEETS, names), user=gestionnaire)
    assert new.previous_id == version.pk
    client = client_for("dhup", gestionnaire)
    url = f"/formulaires/{new.pk}/controles/reprendre/"
    assert (
        "Reprendre les contrôles de la version 1"
        in client.get(f"/formulaires/{new.pk}/controles/").content.decode()
    )
    preview = client.get(url).content.decode()
    assert "le champ ACT_IMMO n&#x27;existe pas dans ce formulaire" in preview
    with schema_context("dhup"):
        assert not Control.objects.filter(version=new).exists()  # a preview copies nothing
    done = client.post(url).content.decode()
    assert 'data-testid="done"' in done
    with schema_context("dhup"):
        copied = Control.objects.get(version=new)
        assert (copied.code, copied.sheet, copied.created_by) == ("C2", "Passif", gestionnaire)
        assert list(Aggregate.objects.filter(version=new).values_list("code", flat=True)) == ["TA"]
        again = controls_carry_over(version=FormVersion.objects.get(pk=new.pk),
                                    acting_user=gestionnaire)  # fmt: skip
    assert again.copied == []
    assert {i.code for i in again.skipped} == {"C2", "TA"}
    assert {(i.code, "ACT_IMMO" in i.reason) for i in again.refused} == {("C1", True), ("SF", True)}
    # the first version has nothing to take over
    assert client.get(f"/formulaires/{version.pk}/controles/reprendre/").status_code == 302


# who may do what ------------------------------------------------------------------------------
def test_every_view_is_closed_to_others(version, declarant, outsider, gestionnaire, client_for,
                                        demo_user):  # fmt: skip
    control = add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="-1")
    with schema_context("dhup"):
        aggregate = aggregate_create(
            version=version,
            values={"tab": "SF", "code": "SF", "label": "SF", "formula": "TOTAL_ACTIF"},
            acting_user=gestionnaire,
        )
    base = f"/formulaires/{version.pk}"
    management = [
        f"{base}/controles/",
        f"{base}/controles/ajouter/",
        f"{base}/controles/{control.pk}/",
        f"{base}/controles/{control.pk}/activer/",
        f"{base}/controles/{control.pk}/supprimer/",
        f"{base}/controles/reprendre/",
        f"{base}/agregats/ajouter/",
        f"{base}/agregats/{aggregate.pk}/",
        f"{base}/agregats/{aggregate.pk}/supprimer/",
    ]
    for username in ("organisme", "partenaire-cdc", "editeur"):
        client = client_for("dhup", demo_user("dhup", username))
        for url in management:
            assert client.get(url).status_code == 403, (username, url)
            assert client.post(url).status_code == 403, (username, url)
    other_platform = client_for("oph", demo_user("oph", "gestionnaire"))
    for url in management:
        assert other_platform.get(url).status_code in (404, 405), url
        assert other_platform.post(url).status_code == 404, url
    with schema_context("dhup"):
        control.refresh_from_db()
        assert control.enabled and Aggregate.objects.filter(pk=aggregate.pk).exists()
    assert client_for("dhup").get(management[0]).status_code == 302  # sign in first

    dossier = open_dossier(declarant)
    url = f"/declarations/dossiers/{dossier.pk}/verification/"
    assert client_for("dhup", outsider).get(url).status_code == 404
    assert client_for("dhup", outsider).post(url).status_code == 404
    assert client_for("dhup", demo_user("dhup", "partenaire-cdc")).get(url).status_code == 403
    assert client_for("dhup", demo_user("dhup", "editeur")).get(url).status_code == 403
    assert client_for("oph", demo_user("oph", "organisme")).get(url).status_code == 404
    assert client_for("oph", demo_user("oph", "gestionnaire")).get(url).status_code == 404
    assert client_for("dhup").get(url).status_code == 302
    page = client_for("dhup", demo_user("dhup", "organisme")).get(url)
    assert page.status_code == 200 and "1 bloquant en échec" in page.content.decode()
    # step 2: the organism's internal work, the gestionnaire is told why and sees no result
    page = client_for("dhup", demo_user("dhup", "gestionnaire")).get(url)
    assert page.status_code == 403 and "bloquant" not in page.content.decode()
    assert "seul l'organisme a accès aux données" in text_of(page)


# a large form ---------------------------------------------------------------------------------
def test_two_hundred_controls_on_a_large_form_take_well_under_a_second(gestionnaire, declarant):
    rows = 600
    sheets = {"Grand": {}}
    names = {}
    for r in range(1, rows + 1):
        sheets["Grand"][f"A{r}"] = f"Ligne {r}"
        sheets["Grand"][f"B{r}"] = r
        sheets["Grand"][f"C{r}"] = r * 2
        sheets["Grand"][f"D{r}"] = f"=B{r}+C{r}"
        names |= {f"L{r}_A": f"Grand!$B${r}", f"L{r}_B": f"Grand!$C${r}",
                  f"L{r}_T": f"Grand!$D${r}"}  # fmt: skip
    sheets["Grand"][f"D{rows + 1}"] = f"=SUM(D1:D{rows})"
    names["TOTAL"] = f"Grand!$D${rows + 1}"
    big = upload("dhup", workbook_bytes(sheets, names), user=gestionnaire)
    with schema_context("dhup"):
        controls = [
            Control(
                version=big, code=f"C{i:03d}", label=f"Ligne {i}", left=f"=L{i}_T",
                right=f"=L{i}_A+L{i}_B", tolerance=Decimal("0.01"),
                severity="blocking" if i % 2 else "warning",
            )
            for i in range(1, 151)
        ] + [
            Control(version=big, code=f"K{i:03d}", label="Condition", kind="condition",
                    condition=f"=AND(L{i}_A>=0,L{i}_T<=TOTAL)")
            for i in range(1, 51)
        ]  # fmt: skip
        Control.objects.bulk_create(controls)
        dossier = open_dossier(declarant)
        Dossier.objects.filter(pk=dossier.pk).update(form_version=big)
        dossier.refresh_from_db()
        dossier.values = {f"L{r}_A": float(r) for r in range(1, rows + 1)}
        started = time.perf_counter()
        first = dossier_verify(dossier)  # compiles the 250 formulas
        cold = time.perf_counter() - started
        started = time.perf_counter()
        report = dossier_verify(dossier)
        warm = time.perf_counter() - started
    assert len(report.results) == 200 and len(first.results) == 200
    assert all(r.status == PASSED for r in report.results)
    assert cold < 1.0, cold
    assert warm < 0.25, warm
