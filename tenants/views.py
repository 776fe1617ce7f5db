from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from accounts.models import PUBLIC_ROLES, TRACKER_ROLES
from accounts.permissions import role_required
from tenants.models import Platform


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


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "schema": connection.schema_name})
