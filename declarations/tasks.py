"""Jobs of the declarations app, found by procrastinate's autodiscovery (``<app>.tasks``): each
part of the app keeps its jobs in its own module, imported here so that workers know them."""

from declarations.pdf.tasks import dossier_pdf_build

__all__ = ["dossier_pdf_build"]
