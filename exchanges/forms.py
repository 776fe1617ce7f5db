from django import forms

from exchanges import filetypes
from exchanges.models import BODY_MAX_CHARS
from exchanges.services import MAX_FILES, max_attachment_bytes, size_label

ACCEPT_DOCUMENTS = ",".join(f".{ext}" for ext in filetypes.EXTENSIONS)
ACCEPT_PROROGATION = ".pdf,.png,.jpg,.jpeg"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleaned to a list (empty when none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Votre message",
        required=False,
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": BODY_MAX_CHARS}),
    )
    files = MultipleFileField(
        label="Pièces jointes",
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPT_DOCUMENTS}),
    )
    prorogation = forms.FileField(
        label="Décision de prorogation de l'assemblée générale",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_PROROGATION}),
        help_text=(
            "Si l'approbation des comptes est reportée, déposez ici la décision de prorogation "
            "(PDF ou image) : elle sera signalée aux gestionnaires."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = (
            f"{filetypes.ACCEPTED_LABEL} ; {size_label(max_attachment_bytes())} au plus par "
            f"fichier, {MAX_FILES} fichiers au plus par message, décision de prorogation comprise."
        )

    def uploads(self) -> list[tuple[object, str]]:
        """The uploaded files with their nature ("document" or "prorogation")."""
        pairs = [(upload, "document") for upload in self.cleaned_data.get("files") or []]
        if self.cleaned_data.get("prorogation"):
            pairs.append((self.cleaned_data["prorogation"], "prorogation"))
        return pairs
