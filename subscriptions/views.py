"""Managing one's subscriptions (signed in) and the one-click unsubscribe link (no login)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import PLATFORM_ROLES
from accounts.permissions import role_required
from subscriptions.forms import SubscribeForm
from subscriptions.models import Subscription
from subscriptions.services import (
    InvalidToken,
    subscription_create,
    subscription_delete,
    unsubscribe_preview,
    unsubscribe_with_token,
)


@role_required(*PLATFORM_ROLES)
@require_http_methods(["GET", "POST"])
def manage(request):
    form = SubscribeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = subscription_create(
                user=request.user,
                scope=form.cleaned_data["scope"],
                page=form.cleaned_data.get("page"),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"Abonnement enregistré : {subscription}.")
            return redirect("subscriptions:manage")
    subscriptions = Subscription.objects.filter(user=request.user).select_related("page")
    return render(
        request,
        "subscriptions/manage.html",
        {"form": form, "subscriptions": subscriptions},
    )


@role_required(*PLATFORM_ROLES)
@require_POST
def remove(request, pk):
    if subscription_delete(user=request.user, pk=pk):
        messages.success(request, "Abonnement supprimé.")
    else:
        messages.info(request, "Cet abonnement n'existe plus.")
    return redirect("subscriptions:manage")


# The token is the credential (signed, names the subscription and its owner): no login, and
# no CSRF token since mail clients post to it directly (RFC 8058 one-click). A GET only shows
# what would be removed, so that link scanners opening the e-mail's links remove nothing.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        if request.method == "POST":
            result = unsubscribe_with_token(token)
            state = "done" if result.done else "already"
        else:
            result = unsubscribe_preview(token)
            state = "confirm" if result.done else "already"
    except InvalidToken:
        return render(request, "subscriptions/unsubscribe.html", {"state": "invalid"}, status=400)
    return render(
        request,
        "subscriptions/unsubscribe.html",
        {"state": state, "label": result.label, "token": token},
    )
