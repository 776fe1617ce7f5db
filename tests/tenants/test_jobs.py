"""Background jobs: a real procrastinate worker runs each job in its platform's schema."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from procrastinate.contrib.django import app

from organisms.models import Organism
from tenants.jobs import tenant_task

seen: list[tuple[str, int, str]] = []


@tenant_task(name="tests.record_schema")
def record_schema(*, marker: str) -> None:
    seen.append((connection.schema_name, Organism.objects.count(), marker))


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Autocommit access, so the worker's own connection sees the queued jobs."""
    job_ids: list[int] = []
    with django_db_blocker.unblock():
        yield job_ids
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM public.procrastinate_jobs WHERE id = ANY(%s)", [job_ids])
        connection.set_schema_to_public()


def run_worker() -> None:
    """A real worker, once through the queue, without the periodic deferrer's schedule: on
    the first days of a month it would queue (and commit) the monthly activity reports,
    which other tests and the benchmarks do not expect to find."""
    from procrastinate.periodic import PeriodicRegistry

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        schedule, worker_app.periodic_registry = worker_app.periodic_registry, PeriodicRegistry()
        try:
            worker_app.run_worker(
                wait=False, install_signal_handlers=False, listen_notify=False, queues=["default"]
            )
        finally:
            worker_app.periodic_registry = schedule


def test_a_job_queued_on_oph_runs_in_oph_schema(committed):
    seen.clear()
    with schema_context("oph"):
        oph_count = Organism.objects.count()
        committed.append(record_schema.defer(marker="from-oph"))
    with schema_context("dhup"):
        dhup_count = Organism.objects.count()
        committed.append(record_schema.defer(marker="from-dhup"))
    assert oph_count != dhup_count

    run_worker()

    assert sorted(seen) == sorted(
        [("oph", oph_count, "from-oph"), ("dhup", dhup_count, "from-dhup")]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM public.procrastinate_jobs WHERE id = ANY(%s)", [committed]
        )
        assert {row[0] for row in cursor.fetchall()} == {"succeeded"}


def test_queued_email_is_sent_by_the_worker(committed, mailoutbox):
    from tenants.tasks import queue_email

    with schema_context("esh"):
        committed.append(queue_email(subject="Essai", body="Bonjour", to=["a@example.org"]))
    run_worker()
    assert [m.subject for m in mailoutbox] == ["Essai"]


@pytest.mark.django_db
def test_jobs_of_a_dead_worker_go_back_in_the_queue_and_a_poisonous_one_fails():
    from tenants.tasks import retry_stalled_jobs, send_email

    with schema_context("dhup"):
        orphan, poisonous, alive_job = (
            send_email.defer(subject=s, body="", to=["a@example.org"]) for s in "abc"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO public.procrastinate_workers (last_heartbeat) VALUES "
            "(now() - interval '10 minutes'), (now()) RETURNING id"
        )
        dead, alive = (row[0] for row in cursor.fetchall())
        for job, worker, attempts in (
            (orphan, dead, 0),
            (poisonous, dead, 2),
            (alive_job, alive, 0),
        ):
            cursor.execute(
                "UPDATE public.procrastinate_jobs SET status = 'doing', worker_id = %s, "
                "attempts = %s WHERE id = %s",
                [worker, attempts, job],
            )

    done = retry_stalled_jobs(timestamp=0)

    assert done == {"retried": [orphan], "failed": [poisonous]}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, status, attempts FROM public.procrastinate_jobs WHERE id = ANY(%s)",
            [[orphan, poisonous, alive_job]],
        )
        states = {row[0]: row[1:] for row in cursor.fetchall()}
    assert states == {orphan: ("todo", 1), poisonous: ("failed", 3), alive_job: ("doing", 0)}
