"""Refusing files that are not safe form workbooks, with a French message saying what to do."""

from __future__ import annotations

import io
import zipfile

import pytest
from harmonia.workbook_safety import (
    OLE_SIGNATURE,
    WorkbookFileError,
    workbook_file_check,
    workbook_load,
    workbook_open,
)
from openpyxl import Workbook

MB = 1024 * 1024


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "Capital"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def refusal(data: bytes, filename: str = "formulaire.xlsx", **caps) -> str:
    with pytest.raises(WorkbookFileError) as info:
        workbook_file_check(data, filename, **caps)
    assert info.value.message == str(info.value)
    assert f"« {filename} »" in info.value.message
    return info.value.message


def test_a_real_workbook_passes_and_loads():
    data = xlsx_bytes()
    workbook_file_check(data, "formulaire.xlsx")
    assert workbook_open(data, "formulaire.xlsx").active["A1"].value == "Capital"


def test_macro_enabled_workbook_is_refused_whatever_its_name():
    """Uploaded workbooks are served to organisms: no VBA project gets through (issue 17)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    members = {info.filename: source.read(info) for info in source.infolist()}
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    members["xl/vbaProject.bin"] = OLE_SIGNATURE + b"\x00" * 600
    data = zip_bytes(members)
    for filename in ("formulaire.xlsm", "formulaire.xlsx"):
        message = refusal(data, filename)
        assert "contient des macros (xl/vbaProject.bin)" in message
        assert "« Classeur Excel (*.xlsx) »" in message


def test_empty_file():
    assert "est vide" in refusal(b"")


def test_text_file():
    message = refusal(b"SIREN;Raison sociale\n123456789;Office\n", "export.csv")
    assert "n'est pas un classeur Excel (.xlsx)" in message
    assert "CSV" in message


def test_pdf_file():
    assert "document PDF" in refusal(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "notice.pdf")


def test_legacy_xls():
    data = OLE_SIGNATURE + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 600
    message = refusal(data, "ancien.xls")
    assert "format .xls (Excel 97-2003) : enregistrez le classeur au format .xlsx" in message


@pytest.mark.parametrize("stream", ["EncryptionInfo", "EncryptedPackage"])
def test_password_protected_workbook(stream):
    data = OLE_SIGNATURE + b"\x00" * 504 + stream.encode("utf-16-le") + b"\x00" * 2000
    message = refusal(data, "protege.xlsx")
    assert "classeur protégé par mot de passe : retirez la protection" in message
    assert ".xls (Excel 97-2003)" not in message


def test_upload_size_cap():
    message = refusal(xlsx_bytes(), max_upload_bytes=1000)
    assert "au-delà de la limite" in message
    assert "allégez le classeur" in message


def test_damaged_zip():
    data = xlsx_bytes()
    message = refusal(data[: len(data) // 2])
    assert "endommagé" in message
    assert "Enregistrer sous" in message


def test_zip_without_workbook_part():
    message = refusal(zip_bytes({"word/document.xml": b"<w/>"}), "rapport.docx")
    assert "xl/workbook.xml est absente" in message


def test_opendocument_spreadsheet():
    data = zip_bytes(
        {
            "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
            "content.xml": b"<office:document-content/>",
        }
    )
    assert "OpenDocument (.ods)" in refusal(data, "formulaire.ods")


def test_binary_workbook():
    assert "(.xlsb)" in refusal(zip_bytes({"xl/workbook.bin": b"\x00" * 10}), "f.xlsb")


def test_zip_bomb_by_total_declared_size():
    # 3 MB of zeros compress to a few KB; the cap is lowered to keep the test fast
    data = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/big.xml": b"\x00" * (3 * MB)})
    message = refusal(data, max_uncompressed_bytes=2 * MB)
    assert "décompressé serait démesuré" in message
    assert "une fois décompressé" in message


def test_zip_bomb_by_compression_ratio():
    data = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/big.xml": b"\x00" * (3 * MB)})
    message = refusal(data, ratio_min_bytes=1 * MB)
    assert "« xl/big.xml »" in message
    assert "taux de compression" in message
    # the same file passes with the default thresholds (member under 10 MB)
    workbook_file_check(data, "formulaire.xlsx")


def test_zip_bomb_with_the_default_caps():
    """A real 300 MB member (deflated to ~300 KB), refused from the central directory alone."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\x00" * MB
            for _ in range(300):
                member.write(chunk)
    message = refusal(out.getvalue())
    assert "démesuré" in message
    assert "200 Mo au plus" in message


def test_too_many_members():
    members = {"xl/workbook.xml": b"<workbook/>"}
    members.update({f"xl/media/{i}.bin": b"" for i in range(30)})
    message = refusal(zip_bytes(members), max_members=20)
    assert "31 éléments dans l'archive, 20 au plus" in message


def test_encrypted_zip_member():
    data = bytearray(zip_bytes({"xl/workbook.xml": b"<workbook/>"}, zipfile.ZIP_STORED))
    # set the "encrypted" flag in the central directory entry
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1
    assert "parties chiffrées" in refusal(bytes(data))


def test_doctype_in_a_part():
    bomb = b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><workbook>&a;</workbook>'
    data = zip_bytes({"xl/workbook.xml": bomb})
    assert "DOCTYPE" in refusal(data)


def test_unreadable_workbook_part_becomes_a_french_error():
    data = zip_bytes({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"})
    workbook_file_check(data, "formulaire.xlsx")
    with pytest.raises(WorkbookFileError) as info:
        workbook_load(data, filename="formulaire.xlsx")
    assert "n'a pas pu être lu comme un classeur Excel" in info.value.message
