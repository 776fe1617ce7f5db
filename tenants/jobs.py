"""Tenant-aware background jobs on procrastinate (a PostgreSQL-backed queue).

The queue's tables live in the public schema, so one pool of workers serves every platform.
A job deferred from a platform records that platform's schema and runs inside it:

    @tenant_task(name="organisms.recount")
    def recount(*, campaign_id: int) -> None: ...

    recount.defer(campaign_id=3)   # from a request or command on "oph": runs in "oph"
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context
from procrastinate.contrib.django import app

SCHEMA_ARG = "schema_name"


class TenantTask:
    """A procrastinate task bound to the schema it was deferred from."""

    def __init__(self, task: Any, func: Callable[..., Any]) -> None:
        self.task = task
        self.func = func
        self.name = task.name
        functools.update_wrapper(self, func)

    def defer(self, **kwargs: Any) -> int:
        """Queue the job for the current platform; returns the job id."""
        return self.task.defer(**{SCHEMA_ARG: connection.schema_name}, **kwargs)

    def __call__(self, **kwargs: Any) -> Any:
        return self.func(**kwargs)


def tenant_task(*, name: str, **task_options: Any) -> Callable[[Callable[..., Any]], TenantTask]:
    def decorator(func: Callable[..., Any]) -> TenantTask:
        def run(**kwargs: Any) -> Any:
            schema_name = kwargs.pop(SCHEMA_ARG)
            try:
                with schema_context(schema_name):
                    return func(**kwargs)
            finally:
                # The worker runs jobs on a pool of threads, each with its own Django
                # connection: close it rather than leave it to the garbage collector.
                # (Inside a transaction, as when a test runs a job inline, keep it.)
                if not connection.in_atomic_block:
                    connection.close()

        run.__name__ = func.__name__
        run.__module__ = func.__module__
        task = app.task(name=name, **task_options)(run)
        return TenantTask(task, func)

    return decorator
