"""Form workbooks: a pure package (no Django) from an uploaded ``.xlsx`` to what the platform
stores and publishes.

    extent = workbook_file_check(data, filename) # harmonia.workbook_safety: refuse unsafe files,
                                                  # macros, links, beyond-cap extents
    wb = workbook_load(data)                      # openpyxl, quietly
    catalogue = catalogue_read(wb, source=data)   # catalogue.py: one FieldSpec per name
    catalogue_diff(old, new)                      # what a new version changes
    sheet_layouts(wb, catalogue.fields_by_cell()) # layout.py: JSON to draw the form
    specification_file(data)                      # specfile.py: each named cell shows its name
    xsd_build(catalogue.fields, form_code="ER", version="2024.1")  # xsd.py: harmonised XML
"""

from harmonia.workbook_safety import (
    LIST_CAPS,
    ExtentCaps,
    WorkbookExtent,
    WorkbookFileError,
    WorkbookUnreadable,
    workbook_file_check,
    workbook_load,
    workbook_open,
)

from forms_cms.workbook.catalogue import (
    Catalogue,
    CatalogueError,
    ChangeList,
    FieldSpec,
    catalogue_diff,
    catalogue_read,
)
from forms_cms.workbook.layout import sheet_layouts
from forms_cms.workbook.specfile import specification_file
from forms_cms.workbook.xsd import TableSpec, xml_errors, xml_validator, xsd_build

__all__ = [
    "LIST_CAPS",
    "Catalogue",
    "CatalogueError",
    "ChangeList",
    "ExtentCaps",
    "FieldSpec",
    "TableSpec",
    "WorkbookExtent",
    "WorkbookFileError",
    "WorkbookUnreadable",
    "catalogue_diff",
    "catalogue_read",
    "sheet_layouts",
    "specification_file",
    "workbook_file_check",
    "workbook_load",
    "workbook_open",
    "xml_errors",
    "xml_validator",
    "xsd_build",
]
