"""What every screen does with a service's refusal: its messages under the fields they name
(on the form when the field is not one of its own), so that a write path's French reasons
reach the person who typed the values."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def errors_apply(form, exc: ValidationError) -> None:
    """Put ``exc``'s messages on ``form``: per field when it names fields, else on the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)
