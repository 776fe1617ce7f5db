from forms_cms.services.versions import (
    FormImportError,
    FormPublishRefused,
    form_version_import,
    form_version_publish,
)

__all__ = ["FormImportError", "FormPublishRefused", "form_version_import", "form_version_publish"]
