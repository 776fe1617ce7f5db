"""Types read from the content of a file (no database)."""

from __future__ import annotations

import pytest

from exchanges import filetypes
from exchanges.services import attachment_check, clean_filename

from . import samples


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (samples.pdf, filetypes.PDF),
        (samples.png, filetypes.PNG),
        (samples.jpeg, filetypes.JPEG),
        (samples.docx, filetypes.DOCX),
        (samples.xlsx, filetypes.XLSX),
        (samples.odt, filetypes.ODT),
        (samples.ods, filetypes.ODS),
        (samples.doc, filetypes.DOC),
        (samples.xls, filetypes.XLS),
        (samples.pptx, filetypes.PPTX),
        (samples.xlsm, filetypes.MACRO_OFFICE),
    ],
)
def test_detected_from_content(make, kind):
    assert filetypes.detect(make()) == kind


@pytest.mark.parametrize(
    "data",
    [
        samples.executable(),
        samples.html(),
        samples.plain_zip(),
        b"",
        b"PK\x03\x04 broken zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 truncated",
    ],
)
def test_unknown_content(data):
    assert filetypes.detect(data) in (None, filetypes.OLE_OTHER)
    assert filetypes.detect(data) not in filetypes.ACCEPTED


def test_ole_directory_is_read_not_guessed():
    assert {"Root Entry", "WordDocument"} <= filetypes.ole_stream_names(samples.doc())
    # an OLE file that is neither Word nor Excel (a PowerPoint 97 file, say)
    assert filetypes.detect(samples.ole("PowerPoint Document")) == filetypes.OLE_OTHER


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("bilan.pdf", samples.pdf),
        ("BILAN.PDF", samples.pdf),
        ("scan.png", samples.png),
        ("photo.jpg", samples.jpeg),
        ("photo.jpeg", samples.jpeg),
        ("courrier.docx", samples.docx),
        ("comptes.xlsx", samples.xlsx),
        ("note.odt", samples.odt),
        ("tableau.ods", samples.ods),
        ("ancien.doc", samples.doc),
        ("ancien.xls", samples.xls),
    ],
)
def test_accepted_files(name, make):
    checked, error = attachment_check(name, make(), "document")
    assert error == ""
    assert checked.filename == name


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("rapport.pdf", samples.executable, "« rapport.pdf » n'est pas un fichier d'un type"),
        ("rapport.pdf", samples.html, "« rapport.pdf » n'est pas un fichier d'un type"),
        ("courrier.pdf", samples.docx, "« courrier.pdf » : son extension ne correspond pas"),
        ("bilan.docx", samples.pdf, "extension attendue .pdf"),
        ("image.png", samples.jpeg, "extension attendue .jpg ou .jpeg"),
        ("bilan", samples.pdf, "« bilan » : son extension ne correspond pas"),
        (
            "diapos.pptx",
            samples.pptx,
            "« diapos.pptx » : présentation PowerPoint, type non accepté",
        ),
        (
            "macro.xlsm",
            samples.xlsm,
            "« macro.xlsm » : fichier Office avec macros, type non accepté",
        ),
        ("archive.zip", samples.plain_zip, "n'est pas un fichier d'un type accepté"),
        ("vide.pdf", lambda: b"", "« vide.pdf » est vide"),
    ],
)
def test_refused_files_named_in_the_message(name, make, expected):
    checked, error = attachment_check(name, make(), "document")
    assert checked is None
    assert expected in error


def test_prorogation_must_be_pdf_or_image():
    assert attachment_check("decision.pdf", samples.pdf(), "prorogation")[0] is not None
    assert attachment_check("decision.jpg", samples.jpeg(), "prorogation")[0] is not None
    checked, error = attachment_check("decision.xlsx", samples.xlsx(), "prorogation")
    assert checked is None
    assert "« decision.xlsx » : la décision de prorogation doit être un PDF" in error


def test_filenames_are_cleaned():
    assert clean_filename("C:\\Users\\moi\\bilan.pdf") == "bilan.pdf"
    assert clean_filename("../../etc/passwd.pdf") == "passwd.pdf"
    assert clean_filename("a\x00b\nc.pdf") == "abc.pdf"
    assert clean_filename("") == "fichier"
    long = clean_filename("x" * 300 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")
