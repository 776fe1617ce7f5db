"""A platform's home page (``/``): what the signed-in person can do, by role.

It sits here rather than in ``tenants`` because it reads organisms, document types and
campaigns: ``tenants`` is the bottom layer and imports none of them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role
from forms_cms.models import DocumentType
from organisms.selectors import organisms_visible_to, user_organism, user_partner
from workflow.models import Campaign


@login_required
def platform_home(request):
    """A platform's home: what the signed-in person can do, by role."""
    user = request.user
    today = timezone.localdate()
    context = {
        "open_campaigns": Campaign.objects.open_on(today).prefetch_related("document_types"),
        "document_types": DocumentType.objects.all(),
    }
    if user.role == Role.ORGANISME:
        context["organism"] = user_organism(user)
    elif user.role == Role.PARTENAIRE:
        context["partner"] = user_partner(user)
        context["organism_count"] = organisms_visible_to(user).count()
    elif user.role == Role.GESTIONNAIRE:
        organisms = organisms_visible_to(user)
        context["organism_count"] = organisms.count()
        context["active_count"] = organisms.filter(is_active=True).count()
        context["campaign_count"] = Campaign.objects.count()
    return render(request, "workflow/platform_home.html", context)
