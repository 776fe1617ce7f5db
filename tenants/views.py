"""Views of the bottom layer: the public host's list of platforms (the health check is
tenants/health.py; the operator's space, behind a sign-in, is the operations app's)."""

from django.shortcuts import render

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
