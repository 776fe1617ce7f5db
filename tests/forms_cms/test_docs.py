"""The gestionnaires' guide lists exactly the functions the engine supports."""

import re
from pathlib import Path

from forms_cms.engine import supported_functions

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "formulaires-excel.md"


def test_function_list_in_the_guide_matches_the_engine():
    text = GUIDE.read_text()
    block = re.search(r"tests/forms_cms/test_docs.py -->\n(.*?)<!-- end of list -->", text, re.S)
    assert block, "function list markers missing from the guide"
    assert set(block[1].split()) == supported_functions()
