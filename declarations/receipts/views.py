"""The confirmation step of an action its user cannot undo, as a page: what the dialog of
the dossier page says, for a browser without JavaScript (the lifecycle form posts without
« confirmation » and gets this page) or anyone following the link."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.receipts.selectors import action_preview
from workflow.services.lifecycle import ACTIONS, MSG_NOT_NOW


def confirmation_page(request, dossier, action: str, *, comment: str = ""):
    """The page asking to confirm ``action`` (its user's role already checked), or back to
    the dossier with the reason when the action is not possible at its step. ``comment``:
    what was typed with it (a hand-back's reason), carried to the confirming form."""
    preview = action_preview(dossier, action)
    if preview is None:
        messages.error(request, MSG_NOT_NOW.format(step=dossier.get_step_display()))
        return redirect("declarations:dossier", pk=dossier.pk)
    return render(
        request,
        "declarations/receipts/confirm.html",
        {"dossier": dossier, "preview": preview, "comment": comment},
    )


@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
@dossier_view(values=False)
def action_confirm(request, dossier, policy, action):
    """« Transmettre ? »: what will be sent, to whom, and the checks, before confirming."""
    spec = ACTIONS.get(action)
    if spec is None or not spec.confirm:
        raise Http404("Cette action ne demande pas de confirmation.")
    if (refusal := policy.transition_refusal(action)) is not None:
        raise PermissionDenied(refusal)
    return confirmation_page(request, dossier, action)
