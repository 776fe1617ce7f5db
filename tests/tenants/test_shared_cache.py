"""Several web nodes and workers: nothing one process keeps may go stale when another node
changes a row. The shared cache is a table every process reads; the per-process caches of
forms_cms are keyed by immutable rows (a stored version's compiled form, sources, sheets) or
by a stamp the writer moves (``FormVersion.fields_edited_at``), and the rules are read from
their rows on each use. "Another node" is simulated by writing the rows directly with
``.update()``: nothing in this process is told of the change."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from forms_cms.fields import version_fields
from forms_cms.models import Control, Field, FormVersion
from forms_cms.verification import dossier_verify
from tests.forms_cms.test_write_paths import CONTROL, gestionnaire, version  # noqa: F401
from workflow.models import Dossier

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_the_cache_is_the_shared_table_with_the_platform_in_its_keys():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    with schema_context("oph"):
        cache.set("probe", "oph's")
    with schema_context("esh"):
        assert cache.get("probe") is None  # another platform's key
        cache.set("probe", "esh's")
    with schema_context("oph"):
        assert cache.get("probe") == "oph's"
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM public.harmonia_cache WHERE cache_key LIKE '%%probe'")
        keys = sorted(row[0] for row in cursor.fetchall())
    assert [k.split(":")[0] for k in keys] == ["esh", "oph"]


def test_a_value_cached_by_another_process_is_read_here():
    """A second process (another node) writes; this one reads it from the shared table."""
    db = settings.DATABASES["default"]
    key, value = f"node-{uuid.uuid4().hex}", uuid.uuid4().hex
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host", "")
    where = quote(host, safe="") if host.startswith("/") else f"{host}:{db.get('PORT') or 5432}"
    url = f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{where}/{db['NAME']}"
    code = (
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "from django_tenants.utils import schema_context\n"
        f"with schema_context('oph'): cache.set({key!r}, {value!r}, 60)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "harmonia.settings.test", "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with schema_context("oph"):
        assert cache.get(key) == value
    with schema_context("dhup"):
        assert cache.get(key) is None


def test_a_label_edited_on_another_node_is_read_here_at_the_next_request(version):  # noqa: F811
    with schema_context("dhup"):
        assert version_fields(FormVersion.objects.get(pk=version.pk))["ACT_IMMO"].label != "X"
        # another node's field_update: the row and the version's stamp, nothing else
        Field.objects.filter(version=version, name="ACT_IMMO").update(label="X", required=True)
        FormVersion.objects.filter(pk=version.pk).update(fields_edited_at=timezone.now())
        info = version_fields(FormVersion.objects.get(pk=version.pk))["ACT_IMMO"]
    assert (info.label, info.required) == ("X", True)


def test_a_control_edited_on_another_node_is_checked_here_at_once(version):  # noqa: F811
    with schema_context("dhup"):
        control = Control.objects.create(version=version, **CONTROL)
        dossier = Dossier(form_version=version, values={"ACT_IMMO": 100, "PAS_CAPITAL": 100})
        (before,) = dossier_verify(dossier).results
        Control.objects.filter(pk=control.pk).update(right="TOTAL_ACTIF")
        (after,) = dossier_verify(dossier).results
        Control.objects.filter(pk=control.pk).update(enabled=False)
        assert dossier_verify(dossier).results == []
    # TOTAL_ACTIF = 100 + 0 against TOTAL_PASSIF = 100 + 0: both sides equal before, and after
    # the edit the rule compares TOTAL_ACTIF with itself: the edited formula is the one run
    assert before.formula != after.formula
    assert "TOTAL_ACTIF" in after.formula and "TOTAL_PASSIF" not in after.formula


def _redis_here() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_here(), reason="no Redis server on 127.0.0.1:6379")
def test_with_redis_configured_the_cache_is_redis_and_keys_still_carry_the_platform():
    key, value = f"node-{uuid.uuid4().hex}", uuid.uuid4().hex
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.cache import cache\n"
        "from django_tenants.utils import schema_context\n"
        "print(settings.CACHES['default']['BACKEND'])\n"
        f"with schema_context('oph'): cache.set({key!r}, {value!r}, 30)\n"
        f"with schema_context('esh'): print(cache.get({key!r}))\n"
        f"with schema_context('oph'): print(cache.get({key!r})); cache.delete({key!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "harmonia.settings.test",
            "HARMONIA_CACHE_URL": "redis://127.0.0.1:6379/15",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "None", value]
