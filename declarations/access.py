"""Loading a dossier for a view, with its permission policy.

Every dossier screen goes through :func:`dossier_view`: the dossier is looked up among those
the user may see (404 otherwise, so that another organism's dossier numbers reveal
nothing), and a screen that shows values asks the policy first. A gestionnaire asking for
the values of a dossier still in the organism's hands gets a 403 page saying why, with
what the gestionnaire may know (step, dates, deadline, exchange space), and nothing is read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from accounts.models import Role
from declarations.selectors import dossiers_visible_to
from workflow.policy import DossierPolicy, ValuesHidden

MSG_EDITORS_TRIALS_ONLY = (
    "Les éditeurs de logiciels n'ouvrent que les dossiers d'essai des versions en brouillon."
)


def dossier_and_policy(user, pk, *, defer: tuple[str, ...] = (), related=None) -> tuple:
    dossiers = dossiers_visible_to(user, trials=True).filter(pk=pk).defer(*defer)
    if related is not None:
        dossiers = dossiers.select_related(None).select_related(*related)
    dossier = dossiers.first()
    if dossier is None:
        if getattr(user, "role", None) == Role.EDITEUR:
            # editors reach dossier screens for trial dossiers only: any other number is
            # refused as before (a refusal, whether or not the dossier exists)
            raise PermissionDenied(MSG_EDITORS_TRIALS_ONLY)
        raise Http404("Dossier introuvable.")
    return dossier, DossierPolicy(user, dossier)


def values_hidden_page(request, dossier, policy, exc: ValuesHidden):
    return render(
        request,
        "declarations/dossier_hidden.html",
        {"dossier": dossier, "policy": policy, "explanation": str(exc)},
        status=403,
    )


def dossier_view(*, values: bool, defer: tuple[str, ...] = (), related=None) -> Callable:
    """Decorate ``view(request, dossier, policy, **kwargs)`` reached as ``.../<pk>/...``.

    ``values=True``: the screen shows the dossier's values or something derived from them.
    ``defer``: columns the view does not read (a full dossier's ``values`` and ``computed``
    are ~400 kB of JSON to decode; the write gate reads them again under its lock).
    ``related``: the relations to join (default: all those of :func:`dossiers_visible_to`);
    others are read only if used (the cell save needs only the form version)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, pk, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            dossier, policy = dossier_and_policy(request.user, pk, defer=defer, related=related)
            if values:
                try:
                    policy.require_values()
                except ValuesHidden as exc:
                    return values_hidden_page(request, dossier, policy, exc)
            return view(request, dossier, policy, *args, **kwargs)

        return wrapped

    return decorator
