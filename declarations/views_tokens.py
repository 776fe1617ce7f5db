from django import forms
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail.log_actions import log

from accounts.models import Role
from accounts.permissions import role_required
from declarations.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Pour le reconnaître plus tard, par exemple le nom du logiciel.",
    )


# who holds tokens: an organisme user for its software's imports and exports, a gestionnaire
# or a partner user for the read API, a software editor to check its files without saving
# (each token carries its user's role, ApiToken.scope)
TOKEN_ROLES = (Role.ORGANISME, Role.GESTIONNAIRE, Role.PARTENAIRE, Role.EDITEUR)


def _journal(token: ApiToken, action: str, user) -> None:
    """The platform's administrative journal names the token by name and prefix (never the
    key, which is only shown once to its owner), its scope and whom it acts for (the
    organism's SIREN, or the partner's name)."""
    membership = getattr(user, "membership", None)
    organism = membership.organism if membership else None
    partner = membership.partner if membership else None
    log(
        instance=token,
        action=action,
        user=user,
        title=f"{token} — {user.username}",
        data={
            "name": token.name,
            "prefix": token.prefix,
            "scope": token.scope,
            "username": user.username,
            "organism": organism.siren if organism else None,
            "partner": partner.name if partner else None,
        },
    )


@role_required(*TOKEN_ROLES)
def token_list(request):
    """A user's API tokens: create (key shown once), revoke. An organisme user's serve the
    editors' import and export; a gestionnaire's and a partner user's the read API."""
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            token, new_key = ApiToken.issue(user=request.user, name=form.cleaned_data["name"])
            _journal(token, "harmonia.token_issued", request.user)
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "declarations/tokens.html",
        {"form": form, "tokens": tokens, "new_key": new_key},
    )


@require_POST
@role_required(*TOKEN_ROLES)
def token_revoke(request, pk):
    with transaction.atomic():
        token = get_object_or_404(
            ApiToken.objects.active().select_for_update(), pk=pk, user=request.user
        )
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _journal(token, "harmonia.token_revoked", request.user)
    return redirect("declarations:tokens")
