"""The endpoint pasting a block copied from Excel on a sheet: the raw clipboard text and the
cell it was pasted on go to the server, which places, checks and saves
(``dossier_block_paste``), so that the page's script and the form without JavaScript share one
logic.

The page's script (static/harmonia/dossier_paste.js) posts JSON ``{"cell": field name,
"text": clipboard text, "revision": n, "seen": {field: stored value on screen}}`` (or
``"address": "B3"`` instead of ``"cell"``) and gets the saved values as displayed, the
computed values that changed, the cells changed meanwhile by a colleague (not pasted over)
and the report. The form (« Coller un bloc copié d'Excel », under the sheet) posts
``adresse`` (« B3 ») and ``texte`` and comes back to the sheet with the report as messages."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.paste.block import BlockRefused
from declarations.services import DossierClosed
from declarations.services.paste import dossier_block_paste
from declarations.tables.shown import changed_values
from forms_cms.fields import version_fields
from forms_cms.formats import format_value
from forms_cms.models import SheetLayout

MAX_BODY_BYTES = 1024 * 1024
MAX_MESSAGES = 20  # lines of the report shown as messages without JavaScript
MSG_UNREADABLE = "Requête illisible."
MSG_TOO_LARGE = "Le collage est trop volumineux (1 Mo au plus) : collez-le en plusieurs fois."
MSG_MORE = "… et {count} autres cellules non collées."


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def sheet_paste(request, dossier, policy, index):
    """Paste on sheet ``index`` (its position): JSON from the page's script, or a form."""
    as_json = request.content_type == "application/json"
    # the size first: nothing is parsed beyond it
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        return _refusal(request, dossier, index, as_json, MSG_TOO_LARGE, 413)
    sheet = SheetLayout.objects.filter(version=dossier.form_version, position=index).first()
    if sheet is None or sheet.layout.get("hidden"):
        raise Http404("Cette feuille n'existe pas dans ce formulaire.")
    try:
        if as_json:
            payload = json.loads(request.body)
            if not isinstance(payload, dict):
                raise ValueError
            # the script sends the field it pasted on; a cell address is taken too
            if payload.get("cell"):
                anchor = {"anchor_name": str(payload["cell"])}
            else:
                anchor = {"anchor_address": str(payload.get("address") or "")}
            text = str(payload.get("text") or "")
            revision = int(payload.get("revision", dossier.revision))
            seen = payload.get("seen")  # field → the stored value on screen
            if seen is not None and not isinstance(seen, dict):
                raise ValueError
        else:
            anchor = {"anchor_address": request.POST.get("adresse", "")}
            text = request.POST.get("texte", "")
            revision, seen = dossier.revision, None
    except (ValueError, TypeError):
        return _refusal(request, dossier, index, as_json, MSG_UNREADABLE, 400)
    step_before = dossier.step
    try:
        report = dossier_block_paste(
            dossier=dossier,
            layout=sheet.layout,
            text=text,
            acting_user=request.user,
            seen=seen,
            **anchor,
        )
    except DossierClosed as exc:
        return _refusal(request, dossier, index, as_json, str(exc), 403)
    except BlockRefused as exc:
        return _refusal(request, dossier, index, as_json, str(exc), 400)
    if not as_json:
        _report_as_messages(request, report)
        return redirect(_sheet_url(dossier, index))
    fields = version_fields(dossier.form_version)
    result = report.result
    return JsonResponse(
        {
            "saved": {
                name: {"display": _shown(fields, name, value), "seen": value}
                for name, value in report.saved.items()
            },
            # computed cells, and the calculated columns of tables reading the pasted cells
            **changed_values(dossier.form_version, result.computed if result else {}),
            # cells changed by a colleague meanwhile, not pasted over: what is stored now
            "current": {
                name: {"display": _shown(fields, name, value), "seen": value}
                for name, value in report.conflicts.items()
            },
            "message": report.summary(),
            # what was not pasted: a line each, with the field of a refused input cell
            "report": [{"text": text, "field": name} for text, name in report.items()],
            "revision": dossier.revision,
            "others": result is not None and result.revision - revision > 1,
            "step": dossier.step_label,
            "stepper": (
                render_to_string("declarations/_stepper.html", {"dossier": dossier})
                if dossier.step != step_before
                else None
            ),
        }
    )


def _shown(fields, name, value) -> str:
    info = fields[name]
    return format_value(value, info.data_type, info.number_format)


def _sheet_url(dossier, index) -> str:
    return reverse("declarations:sheet", kwargs={"pk": dossier.pk, "index": index})


def _refusal(request, dossier, index, as_json, message, status):
    if as_json:
        return JsonResponse({"message": message}, status=status)
    messages.error(request, message)
    return redirect(_sheet_url(dossier, index))


def _report_as_messages(request, report) -> None:
    lines = report.lines()
    level = messages.WARNING if lines else messages.SUCCESS
    messages.add_message(request, level, report.summary())
    for line in lines[:MAX_MESSAGES]:
        messages.warning(request, line)
    if len(lines) > MAX_MESSAGES:
        messages.warning(request, MSG_MORE.format(count=len(lines) - MAX_MESSAGES))
