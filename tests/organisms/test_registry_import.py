"""Importing the organisms registry (CSV or XLSX): all or nothing, idempotent, per platform."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from openpyxl import Workbook

from fixtures import hostile_uploads as hostile
from organisms.models import Organism, RegistryImport
from organisms.services import RegistryFileError, organisms_import, registry_file_parse
from organisms.siren import with_luhn_key

pytestmark = pytest.mark.django_db

HEADER = ["SIREN", "Raison sociale", "Famille", "Département"]
IMPORT_URL = "/organismes/import/"
# Demo SIRENs start with 2-9: these never collide with them.
NEW_A = with_luhn_key("10000001")
NEW_B = with_luhn_key("10000002")
NEW_C = with_luhn_key("10000003")


# --- helpers ---------------------------------------------------------------------------------


def csv_bytes(rows, delimiter=";", encoding="utf-8") -> bytes:
    lines = [delimiter.join(str(cell) for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def snapshot(code: str) -> dict[str, dict]:
    """Every organism of a platform, field by field (updated_at included)."""
    with schema_context(code):
        return {
            row["siren"]: row
            for row in Organism.objects.values(
                "siren", "name", "family", "departement", "is_active", "updated_at"
            )
        }


def import_count(code: str) -> int:
    with schema_context(code):
        return RegistryImport.objects.count()


def run_import(code: str, content: bytes, file_name: str, user):
    with schema_context(code):
        return organisms_import(content=content, file_name=file_name, acting_user=user)


def upload(client, file_name: str, content: bytes):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(file_name, content)})


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def error_rows(response) -> list[tuple[int, str]]:
    """The (line, message) rows of the error table of the import page."""
    content = response.content.decode()
    if 'data-testid="import-errors"' not in content:
        return []
    table = content.split('data-testid="import-errors"', 1)[1].split("</table>", 1)[0]
    return [
        (int(line), html.unescape(message))
        for line, message in re.findall(
            r'<tr><td class="num">(\d+)</td><td>(.*?)</td></tr>', table, re.S
        )
    ]


def field_errors(response) -> str:
    content = response.content.decode()
    return " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", chunk))
        for chunk in re.findall(r'<div class="error" role="alert">(.*?)</div>', content, re.S)
    )


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("oph", "gestionnaire")


@pytest.fixture
def oph_client(client_for, gestionnaire):
    return client_for("oph", gestionnaire)


@pytest.fixture
def existing():
    """Two demo organisms of the oph platform."""
    with schema_context("oph"):
        first, second = Organism.objects.filter(family="OPH").order_by("siren")[:2]
    return first, second


def bad_rows(existing):
    first, _ = existing
    return [
        HEADER,
        [first.siren, "Nom qui ne doit pas être appliqué", "OPH", first.departement],  # line 2
        ["552100555", "Clé fausse", "OPH", "75"],  # line 3: Luhn key wrong
        [NEW_A, "Famille inconnue", "HLM", "75"],  # line 4: unknown family
        [NEW_B, "Premier", "ESH", "69"],  # line 5
        [NEW_B, "Doublon", "ESH", "69"],  # line 6: same SIREN as line 5
    ]


def good_rows(existing):
    first, second = existing
    return [
        HEADER,
        [first.siren, "Office rebaptisé", first.family, first.departement],
        [second.siren, second.name, second.family, second.departement],
        [NEW_A, "Coopérative de l'Ain", "COOP", "1"],
        [NEW_B, "Habitat Corse-du-Sud", "sa hlm", "2a"],
    ]


def assert_bad_report(errors: list[tuple[int, str]]) -> None:
    assert [line for line, _ in errors] == [3, 4, 6]
    by_line = dict(errors)
    assert "552100555" in by_line[3]
    assert "clé de contrôle" in by_line[3]
    assert "Famille « HLM » inconnue" in by_line[4]
    assert "OPH" in by_line[4]  # the message lists the accepted families
    assert by_line[6] == f"SIREN {NEW_B} en double : déjà présent ligne 5."


def assert_good_result(existing) -> None:
    first, second = existing
    with schema_context("oph"):
        renamed = Organism.objects.get(siren=first.siren)
        assert renamed.name == "Office rebaptisé"
        assert (renamed.family, renamed.departement) == (first.family, first.departement)
        assert Organism.objects.get(siren=second.siren).name == second.name
        ain = Organism.objects.get(siren=NEW_A)
        assert (ain.name, ain.family, ain.departement, ain.is_active) == (
            "Coopérative de l'Ain",
            "COOP",
            "01",
            True,
        )
        corse = Organism.objects.get(siren=NEW_B)
        assert (corse.name, corse.family, corse.departement) == (
            "Habitat Corse-du-Sud",
            "ESH",
            "2A",
        )


# --- a file with errors changes nothing ------------------------------------------------------


def test_service_reports_every_wrong_line_and_changes_nothing(gestionnaire, existing):
    before = snapshot("oph")
    report = run_import("oph", csv_bytes(bad_rows(existing)), "referentiel.csv", gestionnaire)

    assert not report.ok
    assert not report.applied
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert_bad_report(report.errors)
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_view_reports_every_wrong_line_and_changes_nothing(oph_client, existing):
    first, _ = existing
    before = snapshot("oph")
    response = upload(oph_client, "referentiel.csv", csv_bytes(bad_rows(existing)))

    assert response.status_code == 200
    assert_bad_report(error_rows(response))
    text = page_text(response)
    assert "Le fichier contient 3 erreurs : aucun organisme n'a été modifié." in text
    assert "Erreurs — aucune modification n'a été faite" in text
    after = snapshot("oph")
    assert after == before
    assert after[first.siren]["name"] == first.name
    assert NEW_B not in after
    assert import_count("oph") == 0


def test_line_numbers_count_blank_lines(gestionnaire):
    rows = [HEADER, [NEW_A, "Bon", "OPH", "75"], [], ["123", "Mauvais", "OPH", "75"]]
    _, report = registry_file_parse(csv_bytes(rows), "referentiel.csv")
    assert [line for line, _ in report.errors] == [4]


def test_line_numbers_count_blank_lines_above_the_header():
    """People leave a title row blank above the header: lines are still the sheet's rows."""
    content = xlsx_bytes([[None], HEADER, [NEW_A, "Bon", "OPH", "75"], ["123", "X", "OPH", "75"]])
    _, report = registry_file_parse(content, "referentiel.xlsx")
    assert [line for line, _ in report.errors] == [4]

    csv_content = b"\r\n" + csv_bytes(
        [HEADER, [NEW_A, "Bon", "OPH", "75"], ["1", "X", "OPH", "20"]]
    )
    _, report = registry_file_parse(csv_content, "referentiel.csv")
    assert [line for line, _ in report.errors] == [4, 4]


def test_other_line_errors_are_named(gestionnaire):
    rows = [
        ["SIREN", "Raison sociale", "Famille", "Département", "Actif"],
        [NEW_A, "", "OPH", "75", "oui"],  # 2: no name
        [NEW_B, "Département faux", "OPH", "20", "oui"],  # 3: 20 is not a département
        [NEW_C, "Actif bizarre", "OPH", "75", "peut-être"],  # 4
        ["", "Sans SIREN", "OPH", "75", "oui"],  # 5
    ]
    _, report = registry_file_parse(csv_bytes(rows), "referentiel.csv")
    by_line = dict(report.errors)
    assert sorted(by_line) == [2, 3, 4, 5]
    assert by_line[2] == "Raison sociale manquante."
    assert "Département « 20 » inconnu" in by_line[3]
    assert "peut-être" in by_line[4]
    assert "oui ou non" in by_line[4]
    assert by_line[5] == "SIREN manquant."


# --- a good file applies, and applying it again changes nothing ------------------------------


def test_service_applies_a_good_file_then_is_idempotent(gestionnaire, existing):
    before = snapshot("oph")
    content = csv_bytes(good_rows(existing))

    report = run_import("oph", content, "referentiel.csv", gestionnaire)
    assert report.ok and report.applied
    assert (report.created, report.updated, report.unchanged) == (2, 1, 1)
    assert_good_result(existing)
    after_first = snapshot("oph")
    assert len(after_first) == len(before) + 2
    # Organisms absent from the file are left as they were.
    untouched = set(before) - {s for s, *_ in good_rows(existing)[1:]}
    assert {s: after_first[s] for s in untouched} == {s: before[s] for s in untouched}

    again = run_import("oph", content, "referentiel.csv", gestionnaire)
    assert again.ok and again.applied
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert snapshot("oph") == after_first

    with schema_context("oph"):
        journal = list(
            RegistryImport.objects.order_by("pk").values(
                "file_name", "imported_by__username", "created", "updated", "unchanged"
            )
        )
    assert journal == [
        {
            "file_name": "referentiel.csv",
            "imported_by__username": "gestionnaire",
            "created": 2,
            "updated": 1,
            "unchanged": 1,
        },
        {
            "file_name": "referentiel.csv",
            "imported_by__username": "gestionnaire",
            "created": 0,
            "updated": 0,
            "unchanged": 4,
        },
    ]


def test_view_applies_a_good_file_then_is_idempotent(oph_client, existing):
    content = csv_bytes(good_rows(existing))

    response = upload(oph_client, "referentiel.csv", content)
    assert response.status_code == 200
    assert error_rows(response) == []
    assert "Référentiel mis à jour : 2 créés, 1 modifié, 1 inchangé." in page_text(response)
    assert_good_result(existing)
    after_first = snapshot("oph")

    again = upload(oph_client, "referentiel.csv", content)
    assert "Référentiel mis à jour : 0 créé, 0 modifié, 4 inchangés." in page_text(again)
    assert snapshot("oph") == after_first
    assert import_count("oph") == 2
    assert "Derniers imports" in page_text(again)


def test_an_organism_can_be_deactivated_and_reactivated(gestionnaire, existing):
    first, _ = existing
    header = [*HEADER, "Actif"]
    off = csv_bytes([header, [first.siren, first.name, first.family, first.departement, "non"]])
    report = run_import("oph", off, "desactivation.csv", gestionnaire)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    with schema_context("oph"):
        assert Organism.objects.get(siren=first.siren).is_active is False

    on = csv_bytes([header, [first.siren, first.name, first.family, first.departement, "oui"]])
    report = run_import("oph", on, "reactivation.csv", gestionnaire)
    assert report.updated == 1
    with schema_context("oph"):
        assert Organism.objects.get(siren=first.siren).is_active is True


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_reports_errors_and_changes_nothing(gestionnaire, oph_client, existing):
    before = snapshot("oph")
    content = xlsx_bytes(bad_rows(existing))

    report = run_import("oph", content, "referentiel.xlsx", gestionnaire)
    assert_bad_report(report.errors)

    response = upload(oph_client, "referentiel.xlsx", content)
    assert_bad_report(error_rows(response))
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_xlsx_applies_then_is_idempotent(gestionnaire, oph_client, existing):
    first, second = existing
    # Spreadsheet cells are often numbers: a SIREN as an integer, a département as 1.
    rows = [
        HEADER,
        [first.siren, "Office rebaptisé", first.family, first.departement],
        [int(second.siren), second.name, second.family, second.departement],
        [int(NEW_A), "Coopérative de l'Ain", "COOP", 1],
        [NEW_B, "Habitat Corse-du-Sud", "sa hlm", "2a"],
    ]
    content = xlsx_bytes(rows)

    report = run_import("oph", content, "referentiel.xlsx", gestionnaire)
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (2, 1, 1)
    assert_good_result(existing)
    after_first = snapshot("oph")

    response = upload(oph_client, "referentiel.xlsx", content)
    assert "Référentiel mis à jour : 0 créé, 0 modifié, 4 inchangés." in page_text(response)
    assert snapshot("oph") == after_first


def test_xlsx_with_an_optional_actif_column_left_blank(gestionnaire):
    """An empty cell of the Actif column means active, in a workbook as in a CSV."""
    rows = [
        [*HEADER, "Actif"],
        [NEW_A, "Sans valeur", "OPH", "75", None],
        [NEW_B, "Inactif", "OPH", "75", "non"],
        [NEW_C, "Actif", "OPH", "75", "oui"],
    ]
    report = run_import("oph", xlsx_bytes(rows), "referentiel.xlsx", gestionnaire)
    assert report.errors == []
    with schema_context("oph"):
        assert dict(
            Organism.objects.filter(siren__in=[NEW_A, NEW_B, NEW_C]).values_list(
                "siren", "is_active"
            )
        ) == {NEW_A: True, NEW_B: False, NEW_C: True}


# --- files that cannot be read at all --------------------------------------------------------


def test_malformed_xlsx_is_refused(gestionnaire, oph_client):
    before = snapshot("oph")
    garbage = bytes(range(256)) * 8

    with pytest.raises(RegistryFileError) as error:
        run_import("oph", garbage, "referentiel.xlsx", gestionnaire)
    assert "classeur Excel est illisible ou endommagé" in str(error.value)

    response = upload(oph_client, "referentiel.xlsx", garbage)
    assert response.status_code == 200
    assert "Le classeur Excel est illisible ou endommagé" in field_errors(response)
    assert "Référentiel mis à jour" not in page_text(response)
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def damaged_workbook(part: str, junk: bytes) -> bytes:
    """A real workbook whose ``part`` is replaced by ``junk``."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER, [NEW_A, "Bon", "OPH", "75"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, junk if name == part else source.read(name))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "part", ["xl/workbook.xml", "[Content_Types].xml", "xl/styles.xml", "xl/worksheets/sheet1.xml"]
)
@pytest.mark.parametrize("junk", [b"", b"garbage", b"<x>"])
def test_a_workbook_with_a_broken_part_is_refused_not_a_server_error(
    gestionnaire, oph_client, part, junk
):
    content = damaged_workbook(part, junk)
    with pytest.raises(RegistryFileError, match="illisible ou endommagé"):
        run_import("oph", content, "referentiel.xlsx", gestionnaire)
    response = upload(oph_client, "referentiel.xlsx", content)
    assert response.status_code == 200
    assert "Le classeur Excel est illisible ou endommagé" in field_errors(response)
    assert import_count("oph") == 0


def test_a_truncated_workbook_is_refused(gestionnaire):
    content = xlsx_bytes([HEADER, [NEW_A, "Bon", "OPH", "75"]])
    with pytest.raises(RegistryFileError, match="illisible ou endommagé"):
        run_import("oph", content[: len(content) // 2], "referentiel.xlsx", gestionnaire)


def test_an_unclosed_quote_in_a_large_csv_is_refused_not_a_server_error(gestionnaire, oph_client):
    """An unclosed quote swallows the rest of the file into one cell, beyond the csv
    module's field size limit (128 Kio): a clear message, not an error 500."""
    rows = [HEADER, [NEW_A, '"Habitat sans guillemet fermant', "OPH", "75"]]
    rows += [[NEW_B, f"Organisme {n}", "OPH", "75"] for n in range(6000)]
    content = csv_bytes(rows)
    assert 128 * 1024 < len(content) < 5 * 1024 * 1024
    before = snapshot("oph")

    with pytest.raises(RegistryFileError, match="Le fichier CSV est illisible"):
        run_import("oph", content, "referentiel.csv", gestionnaire)
    response = upload(oph_client, "referentiel.csv", content)
    assert response.status_code == 200
    assert "guillemet non refermé" in field_errors(response)
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_a_zip_that_is_not_a_workbook_is_refused(gestionnaire):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "pas un classeur")
    with pytest.raises(RegistryFileError, match="illisible ou endommagé"):
        run_import("oph", buffer.getvalue(), "referentiel.xlsx", gestionnaire)


def test_a_missing_required_column_is_named(gestionnaire, oph_client):
    before = snapshot("oph")
    content = csv_bytes([["SIREN", "Raison sociale", "Département"], [NEW_A, "Sans famille", "75"]])

    with pytest.raises(RegistryFileError) as error:
        run_import("oph", content, "referentiel.csv", gestionnaire)
    assert str(error.value) == "Colonnes obligatoires absentes de la ligne d'en-tête : Famille."

    response = upload(oph_client, "referentiel.csv", content)
    assert "Colonnes obligatoires absentes de la ligne d'en-tête : Famille." in field_errors(
        response
    )
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_several_missing_columns_are_all_named(gestionnaire):
    with pytest.raises(RegistryFileError) as error:
        registry_file_parse(csv_bytes([["Numéro", "Nom"], ["1", "x"]]), "r.csv")
    assert str(error.value) == (
        "Colonnes obligatoires absentes de la ligne d'en-tête : SIREN, Famille, Département."
    )


@pytest.mark.parametrize(
    "content", [b"", b"\r\n\r\n", csv_bytes([HEADER]), csv_bytes([HEADER, ["", "", "", ""]])]
)
def test_an_empty_file_is_refused(gestionnaire, content):
    with pytest.raises(RegistryFileError, match="ne contient aucune ligne d'organisme"):
        run_import("oph", content, "referentiel.csv", gestionnaire)
    assert import_count("oph") == 0


def test_an_unsupported_extension_is_refused(gestionnaire, oph_client):
    before = snapshot("oph")
    content = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"

    response = upload(oph_client, "referentiel.pdf", content)
    assert response.status_code == 200
    assert "Seuls les fichiers .csv et .xlsx sont acceptés" in field_errors(response)

    with pytest.raises(RegistryFileError, match="Format de fichier non reconnu"):
        run_import("oph", content, "referentiel.pdf", gestionnaire)
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_an_oversize_file_is_refused(gestionnaire, oph_client, existing, settings):
    settings.HARMONIA_REGISTRY_MAX_BYTES = 1024 * 1024
    before = snapshot("oph")
    good = csv_bytes(good_rows(existing))
    # Blank lines, which the import skips, make up the size.
    padding = 1024 * 1024 - len(good) + 1
    too_big = good + b"\r\n" * (padding // 2) + b"\n" * (padding % 2)
    assert len(too_big) == 1024 * 1024 + 1

    with pytest.raises(RegistryFileError) as error:
        run_import("oph", too_big, "referentiel.csv", gestionnaire)
    assert str(error.value).startswith("Le fichier dépasse 1 Mo")

    response = upload(oph_client, "referentiel.csv", too_big)
    assert response.status_code == 200
    assert "Le fichier dépasse 1 Mo" in field_errors(response)
    assert snapshot("oph") == before
    assert import_count("oph") == 0

    # At the limit exactly, the file is accepted.
    response = upload(oph_client, "referentiel.csv", too_big[:-1])
    assert "Référentiel mis à jour : 2 créés, 1 modifié, 1 inchangé." in page_text(response)


# --- CSV dialects ----------------------------------------------------------------------------


def test_comma_separated_csv_imports(gestionnaire):
    content = csv_bytes(
        [
            ["siren", "nom", "famille", "departement"],
            [NEW_A, '"Habitat de Nantes, Saint-Nazaire"', "OPH", "44"],
            [NEW_B, "Sud Habitat", "SEM", "13"],
        ],
        delimiter=",",
    )
    report = run_import("oph", content, "referentiel.csv", gestionnaire)
    assert report.errors == []
    assert report.created == 2
    with schema_context("oph"):
        assert Organism.objects.get(siren=NEW_A).name == "Habitat de Nantes, Saint-Nazaire"
        assert Organism.objects.get(siren=NEW_B).family == "EPL"


def test_cp1252_csv_with_accents_imports(gestionnaire):
    content = csv_bytes(
        [
            HEADER,
            [NEW_A, "Office public de l'habitat de Besançon", "OPH", "25"],
            [NEW_B, "Société d'économie mixte — Réunion", "EPL", "974"],
        ],
        encoding="cp1252",
    )
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    report = run_import("oph", content, "referentiel.csv", gestionnaire)
    assert report.errors == []
    with schema_context("oph"):
        assert Organism.objects.get(siren=NEW_A).name == "Office public de l'habitat de Besançon"
        assert Organism.objects.get(siren=NEW_B).name == "Société d'économie mixte — Réunion"


def test_utf8_csv_with_bom_and_spaced_sirens_imports(gestionnaire):
    content = b"\xef\xbb\xbf" + csv_bytes(
        [HEADER, ["100\u00a0000\u00a001" + NEW_A[-1], "Éole Habitat", "OPH", "2B"]]
    )
    report = run_import("oph", content, "referentiel.csv", gestionnaire)
    assert report.errors == []
    with schema_context("oph"):
        assert Organism.objects.get(siren=NEW_A).name == "Éole Habitat"


# --- who may import, and where ---------------------------------------------------------------


@pytest.mark.parametrize("username", ["organisme", "partenaire-cdc", "partenaire-prefecture"])
def test_other_roles_get_403(client_for, demo_user, username, existing):
    client = client_for("oph", demo_user("oph", username))
    assert client.get(IMPORT_URL).status_code == 403
    before = snapshot("oph")
    response = upload(client, "referentiel.csv", csv_bytes(good_rows(existing)))
    assert response.status_code == 403
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_anonymous_visitor_is_sent_to_login(client_for, existing):
    client = client_for("oph")
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")
    assert "next=/organismes/import/" in response["Location"]
    before = snapshot("oph")
    response = upload(client, "referentiel.csv", csv_bytes(good_rows(existing)))
    assert response.status_code == 302
    assert snapshot("oph") == before


def test_gestionnaire_sees_the_import_form(oph_client):
    response = oph_client.get(IMPORT_URL)
    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()


def test_an_import_on_oph_does_not_touch_esh(oph_client):
    with schema_context("esh"):
        shared = Organism.objects.filter(family="ESH").order_by("siren").first()
    with schema_context("oph"):
        assert not Organism.objects.filter(siren=shared.siren).exists()
    esh_before = snapshot("esh")

    content = csv_bytes(
        [HEADER, [shared.siren, "Renommée sur oph seulement", "ESH", shared.departement]]
    )
    response = upload(oph_client, "referentiel.csv", content)
    assert "1 créé" in page_text(response)

    with schema_context("oph"):
        assert Organism.objects.get(siren=shared.siren).name == "Renommée sur oph seulement"
    assert snapshot("esh") == esh_before
    assert import_count("esh") == 0
    assert import_count("oph") == 1


@pytest.mark.parametrize(
    ("written", "family"),
    [("Coopérative", "COOP"), ("EPL / SEM", "EPL"), ("sa hlm", "ESH"), ("Groupe", "GROUPE")],
)
def test_family_spellings_people_use_are_understood(written, family):
    from organisms.services import registry_file_parse

    content = f"SIREN;Raison sociale;Famille;Département\n552100554;Essai;{written};69\n"
    rows, report = registry_file_parse(content.encode(), "familles.csv")
    assert report.ok, report.errors
    assert [row.family for row in rows] == [family]


# --- hostile files (issue 17): refused before any full read, nothing changed -----------------


@pytest.mark.parametrize(
    "kind", ["far_cell", "far_dimension", "merged_sheet", "macro_enabled", "external_link"]
)
def test_hostile_registry_workbooks_are_refused(gestionnaire, oph_client, existing, kind):
    build, expected = hostile.HOSTILE[kind]
    content = build(xlsx_bytes(good_rows(existing)))
    before = snapshot("oph")
    with pytest.raises(RegistryFileError) as error:
        run_import("oph", content, "referentiel.xlsx", gestionnaire)
    assert expected in str(error.value)
    assert "« referentiel.xlsx »" in str(error.value)
    response = upload(oph_client, "referentiel.xlsx", content)
    assert response.status_code == 200
    assert expected in field_errors(response)
    assert "Référentiel mis à jour" not in page_text(response)
    assert snapshot("oph") == before
    assert import_count("oph") == 0


def test_a_registry_workbook_wider_than_fifty_columns_is_refused(gestionnaire, existing):
    rows = [[*row, *([""] * 50), "x"] for row in good_rows(existing)]
    with pytest.raises(RegistryFileError, match="au-delà de la limite de 20\u202f000 lignes et 50"):
        run_import("oph", xlsx_bytes(rows), "referentiel.xlsx", gestionnaire)
    assert import_count("oph") == 0


def test_a_registry_workbook_is_read_within_its_real_extent(gestionnaire, existing):
    """A dimension declared smaller than the data (or absent) changes nothing: rows are read
    up to the last cell the guard found."""
    content = xlsx_bytes(good_rows(existing))
    sheet = zipfile.ZipFile(io.BytesIO(content)).read(hostile.SHEET)
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', sheet)
    rows, report = registry_file_parse(
        hostile.rezipped(content, {hostile.SHEET: sheet}), "referentiel.xlsx"
    )
    assert report.ok and len(rows) == len(good_rows(existing)) - 1


def test_csv_with_too_many_lines_or_columns_is_refused(gestionnaire, oph_client, existing):
    before = snapshot("oph")
    wide = csv_bytes([HEADER, [NEW_A, "Habitat", "OPH", "75", *(["x"] * 60)]])
    with pytest.raises(RegistryFileError) as error:
        run_import("oph", wide, "referentiel.csv", gestionnaire)
    assert str(error.value).startswith(
        "La ligne 2 du fichier CSV compte 64 colonnes, au-delà de 50"
    )
    long = csv_bytes([HEADER] + [[NEW_B, "Office", "OPH", "75"]] * 20_001)
    assert len(long) < 5 * 1024 * 1024
    response = upload(oph_client, "referentiel.csv", long)
    assert "compte plus de 20\u202f000 lignes" in field_errors(response)
    assert snapshot("oph") == before
    assert import_count("oph") == 0
