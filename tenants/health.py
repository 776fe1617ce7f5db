"""``/health/`` on every host (public and platforms), for the proxy, the supervisor and the
operator's monitoring. No sign-in, nothing confidential: counts and timings only.

    {"status": "ok", "database": {"ok": true, "latency_ms": 0.8},
     "queue": {"todo": 0, "doing": 1}, "stalled_jobs": 0,
     "workers": {"alive": 2, "last_heartbeat_s": 3.1}}

200 while the database answers (``status`` is ``degraded`` when jobs are stalled — running on
a worker silent for :data:`tenants.tasks.STALLED_AFTER_S` — or wait with no live worker), 503
when it does not. Answered by a middleware placed before django-tenants' so that it needs no
platform lookup (which would itself fail without a database) and opens no session.
``/healthz``, its former address, gives the same answer.
"""

from __future__ import annotations

import time

from django.db import connection
from django.http import JsonResponse

from tenants.tasks import STALLED_AFTER_S

PATHS = ("/health/", "/healthz")

_QUEUE = """
SELECT
  count(*) FILTER (WHERE j.status = 'todo'),
  count(*) FILTER (WHERE j.status = 'doing'),
  count(*) FILTER (WHERE j.status = 'doing' AND (j.worker_id IS NULL
                   OR w.last_heartbeat < now() - make_interval(secs => %(after)s)))
FROM public.procrastinate_jobs j
LEFT JOIN public.procrastinate_workers w ON w.id = j.worker_id
WHERE j.status IN ('todo', 'doing')
"""
_WORKERS = """
SELECT count(*), extract(epoch FROM now() - max(last_heartbeat))
FROM public.procrastinate_workers
WHERE last_heartbeat >= now() - make_interval(secs => %(after)s)
"""


def health() -> tuple[int, dict]:
    """(HTTP status, body)."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            latency = (time.perf_counter() - started) * 1000
            cursor.execute(_QUEUE, {"after": STALLED_AFTER_S})
            todo, doing, stalled = cursor.fetchone()
            cursor.execute(_WORKERS, {"after": STALLED_AFTER_S})
            alive, last_beat = cursor.fetchone()
    except Exception:  # any failure to reach the database is the answer itself
        connection.close_if_unusable_or_obsolete()
        return 503, {"status": "error", "database": {"ok": False}}
    degraded = stalled or (todo and not alive)
    return 200, {
        "status": "degraded" if degraded else "ok",
        "database": {"ok": True, "latency_ms": round(latency, 2)},
        "queue": {"todo": todo, "doing": doing},
        "stalled_jobs": stalled,
        "workers": {
            "alive": alive,
            "last_heartbeat_s": None if last_beat is None else round(float(last_beat), 1),
        },
    }


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in PATHS or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        status, body = health()
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response
