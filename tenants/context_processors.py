from django.db import connection


def platform(request):
    """Expose the current platform (or the public host) to every template."""
    tenant = getattr(request, "tenant", None) or getattr(connection, "tenant", None)
    return {"platform": tenant}
