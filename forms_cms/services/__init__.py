from forms_cms.services.versions import FormImportError, form_version_import

__all__ = ["FormImportError", "form_version_import"]
