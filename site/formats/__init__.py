"""Django format overrides (FORMAT_MODULE_PATH), so that the numbers Django prints look like
those of the grid, the PDFs and the exports (forms_cms.formats)."""
