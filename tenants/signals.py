"""Signals of the platforms layer.

``tenants`` is the bottom layer: it imports none of the apps that hold a platform's content.
It prepares a platform's schema and says so; each app seeds its own data on it in a receiver
connected in its ``AppConfig.ready()``.
"""

from django.dispatch import Signal

# Sent by ``platforms_sync`` for the template schema and for each platform, every time it runs
# (creation and every later synchronisation), inside the platform's schema and its transaction,
# once the gestionnaires' group exists. Keyword arguments: ``platform`` (the ``Platform``) and
# ``spec`` (its ``tenants.platforms.PlatformSpec``, ``None`` for the template schema). Receivers
# are idempotent and never undo what a gestionnaire changed since; an exception rolls the whole
# preparation back. Receivers run in connection order, i.e. INSTALLED_APPS order: a receiver
# that needs another app's seed calls that app's (idempotent) seeding function itself rather
# than rely on it.
platform_prepared = Signal()

# Sent by the periodic job ``tenants.retry_stalled_jobs`` (outside any platform's schema) when
# it found jobs whose worker died: ``retried`` (queued again) and ``failed`` (abandoned after
# ``tenants.tasks.STALLED_MAX_ATTEMPTS`` attempts), each a list of dicts with the job's
# ``id``, ``task_name``, ``args`` (``schema_name`` included for platform jobs) and
# ``attempts``. The app that owns a job tells its users (a PDF's status page says so).
jobs_stalled = Signal()
