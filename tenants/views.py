from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import PUBLIC_ROLES, TRACKER_ROLES, Role
from accounts.permissions import role_required
from forms_cms.models import DocumentType
from organisms.selectors import organisms_visible_to, user_organism, user_partner
from tenants.models import Platform
from workflow.models import Campaign


def platform_url(request, platform: Platform) -> str:
    port = request.get_port()
    suffix = "" if port in ("80", "443") else f":{port}"
    return f"{request.scheme}://{platform.get_primary_domain().domain}{suffix}/"


def public_home(request):
    """The public host: the five platforms and the way into the operator's space."""
    platforms = Platform.objects.declaration_platforms().prefetch_related("domains")
    return render(
        request,
        "tenants/public_home.html",
        {"platforms": [(p, platform_url(request, p)) for p in platforms]},
    )


@role_required(*TRACKER_ROLES)
def operator_home(request):
    platforms = Platform.objects.declaration_platforms().prefetch_related("domains")
    return render(
        request,
        "tenants/operator_home.html",
        {
            "platforms": [(p, platform_url(request, p)) for p in platforms],
            # correspondents see the anomaly tracker only
            "operator": request.user.role in PUBLIC_ROLES,
        },
    )


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
    return render(request, "tenants/platform_home.html", context)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "schema": connection.schema_name})
