"""Excel semantics, one formula at a time (expected values as Excel computes them)."""

from __future__ import annotations

import pytest

from forms_cms.engine.values import DIV0, NA, NUM, REF, VALUE

from .helpers import evaluate_cells, formula_value

CELLS = {
    "A1": 10,
    "A2": 20,
    "A3": "3",  # numeric text
    "A4": True,
    "A5": "texte",
    # A6 empty
    "A7": -2.5,
    "A8": 0,
    "B1": "=1/0",
    "B2": "=NA()",
}

CASES = [
    # empty cells and coercion
    ("=A6", 0),
    ("=A6+1", 1),
    ('=A6&"x"', "x"),
    ("=A3+1", 4),
    ("=A4+1", 2),
    ("=A5+1", VALUE),
    ('="1,5"+0', VALUE),
    ('="50%"*2', 1.0),
    ("=-2^2", 4),
    ("=2^3^2", 64),
    ("=10%", 0.1),
    ("=1+2*3", 7),
    ("=1&2", "12"),
    ('=A4&""', "TRUE"),
    ('=0.1+0.2&""', "0.3"),
    ('=A1/3&""', "3.33333333333333"),
    # comparisons
    ("=A5>A1", True),  # text > numbers
    ("=A4>A5", True),  # booleans > text
    ('="abc"="ABC"', True),
    ("=A6=0", True),
    ('=A6=""', True),
    # errors and their propagation
    ("=B1+1", DIV0),
    ("=B2+B1", NA),
    ("=SUM(A1:A2,B1)", DIV0),
    ("=IF(TRUE,1,B1)", 1),
    ("=IF(A8,B1,2)", 2),
    ("=IFERROR(B1,7)", 7),
    ("=IFERROR(A1,7)", 10),
    ("=ISERROR(B2)", True),
    ("=ISNUMBER(A3)", False),
    ("=ISBLANK(A6)", True),
    ("=ISBLANK(A8)", False),
    ("=MOD(5,0)", DIV0),
    ("=SQRT(-1)", NUM),
    ("=#REF!+1", REF),
    # ROUND and friends: half away from zero, 15 significant digits
    ("=ROUND(2.5,0)", 3),
    ("=ROUND(-2.5,0)", -3),
    ("=ROUND(2.675,2)", 2.68),
    ("=ROUND(1234.5678,-2)", 1200),
    ("=ROUNDUP(-2.1,0)", -3),
    ("=ROUNDDOWN(-2.9,0)", -2),
    ("=INT(-2.5)", -3),
    ("=MOD(-7,3)", 2),
    ("=MOD(7,-3)", -2),
    ("=ABS(A7)", 2.5),
    # aggregates: text and booleans in ranges are skipped, typed ones converted
    ("=SUM(A1:A8)", 27.5),
    ("=SUM(A3,A4)", 0),
    ('=SUM("3",TRUE)', 4),
    ("=COUNT(A1:A8)", 4),
    ("=COUNTA(A1:A8)", 7),
    ("=AVERAGE(A1:A2)", 15),
    ("=AVERAGE(A5:A6)", DIV0),
    ("=MIN(A1:A8)", -2.5),
    ("=MAX(A5:A6)", 0),
    ('=SUMIF(A1:A8,">5")', 30),
    ('=SUMIF(A1:A8,"<>0")', 27.5),
    ('=COUNTIF(A1:A8,"tex*")', 1),
    ('=COUNTIF(A1:A8,"")', 1),
    ('=SUMIFS(A1:A8,A1:A8,">=10",A1:A8,"<20")', 10),
    ("=SUMPRODUCT(A1:A2,A1:A2)", 500),
    ("=SUMPRODUCT((A1:A2>15)*(A1:A2))", 20),
    ("=SUMPRODUCT((A1:A8>5)*(A1:A8))", VALUE),  # "texte">5 is TRUE, TRUE*"texte" is #VALUE!
    ("=AND(A1>5,A2>5)", True),
    ("=OR(A8,A6)", False),
    ("=NOT(A8)", True),
    # text
    ('=CONCATENATE("a",A1,A4)', "a10TRUE"),
    ('=LEN("été")', 3),
    ('=LEFT("Bilan",3)&RIGHT("Actif",2)', "Bilif"),
    ('=MID("Harmonia",2,3)', "arm"),
    ('=UPPER(TRIM("  a  b "))', "A B"),
    ('=FIND("m","Harmonia")', 4),
    ('=SEARCH("M*A","Harmonia")', 4),
    ('=SUBSTITUTE("a-b-c","-","/",2)', "a-b/c"),
    # dates (serial numbers, 1900 system)
    ("=DATE(2024,12,31)", 45657),
    ("=DATE(2024,14,1)", 45689),
    ("=YEAR(45657)", 2024),
    ("=MONTH(45657)", 12),
    ("=DAY(45657)", 31),
    ("=EDATE(DATE(2024,1,31),1)", 45351),
    ("=EOMONTH(DATE(2024,1,15),1)", 45351),
    ('=DATEDIF(DATE(2020,6,15),DATE(2024,6,14),"Y")', 3),
    ("=DAYS(DATE(2024,3,1),DATE(2024,2,1))", 29),
    ("=YEAR(60)", 1900),
    ("=DAY(60)", 29),
    ('=DATEVALUE("31/12/2024")', 45657),
    # lookups
    ("=INDEX(A1:A8,2)", 20),
    ("=MATCH(20,A1:A2,0)", 2),
    ("=MATCH(15,A1:A2,1)", 1),
    ("=MATCH(99,A1:A2,0)", NA),
    ("=CHOOSE(2,A1,A2,B1)", 20),
    ("=ROWS(A1:B8)", 8),
]


@pytest.mark.parametrize(("formula", "expected"), CASES, ids=[c[0] for c in CASES])
def test_formula(formula, expected):
    value = formula_value(formula, CELLS)
    if isinstance(expected, float):
        assert value == pytest.approx(expected, rel=1e-12)
    else:
        assert value == expected
        assert type(value) is type(expected) or isinstance(expected, int | float)


def test_vlookup_exact_and_approximate():
    table = {"A1": 0, "B1": "zéro", "A2": 100, "B2": "cent", "A3": 1000, "B3": "mille"}
    assert formula_value("=VLOOKUP(100,A1:B3,2,FALSE)", table) == "cent"
    assert formula_value("=VLOOKUP(150,A1:B3,2,FALSE)", table) is NA
    assert formula_value("=VLOOKUP(150,A1:B3,2)", table) == "cent"
    assert formula_value("=VLOOKUP(5000,A1:B3,2,TRUE)", table) == "mille"
    assert formula_value("=VLOOKUP(100,A1:B3,3,FALSE)", table) is REF


def test_cross_sheet_references_ranges_and_names():
    values = evaluate_cells(
        {
            "Bilan actif": {"A1": 100, "A2": 200, "A3": "=SUM(A1:A2)"},
            "Passif": {
                "A1": "='Bilan actif'!A3-TOTAL_ACTIF",
                "A2": "=SUM('Bilan actif'!A1:A2)*TAUX",
            },
            "Paramètres": {"B7": 0.5},  # an unnamed cell used by a name
        },
        names={"TOTAL_ACTIF": "'Bilan actif'!$A$3", "TAUX": "'Paramètres'!$B$7"},
    )
    assert values["Passif!A1"] == 0
    assert values["Passif!A2"] == 150


def test_whole_column_reference_and_empty_result():
    values = evaluate_cells({"S": {"A1": 1, "A5": 2, "B1": "=SUM(A:A)", "B2": "=C9"}})
    assert values["S!B1"] == 3
    assert values["S!B2"] == 0
