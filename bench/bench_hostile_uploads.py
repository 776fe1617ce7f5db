"""Refusing hostile uploads (issue 17): worst time and worst peak memory. Targets ≤ 2 s, ≤ 200 MB.

Each hostile file of ``fixtures/hostile_uploads.py`` (a 4 kB workbook with a cell or a
dimension at XFD1048576, a merge over the whole sheet, a zip bomb, macros as .xlsm or renamed,
an external link or relationship, an OLE object, ActiveX), plus a flood of 100,001 cells, is
refused through three layers, each in a fresh process:

- ``guard``: ``workbook_file_check`` alone (no Django);
- ``form``: the form upload service, ``form_version_import`` on the dhup platform of the test
  database (inside a transaction rolled back), as a gestionnaire's upload runs it;
- ``registry``: the organism registry import, ``organisms_import`` (the same files built on a
  registry workbook).

Time is the wall time of the call. Memory is the growth of the process's peak resident set
across the call (``VmHWM`` of ``/proc/self/status``, reset just before the call through
``/proc/self/clear_refs``, minus the resident set then; ``ru_maxrss`` where that is not
available), measured after Django, the database connection and the file are loaded: what
refusing costs the worker. Two JSON lines:
the worst time and the worst memory, with every check's figures in ``checks``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
LAYERS = ("guard", "form", "registry")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def _peak_reset() -> bool:
    """Reset the peak resident set to the current one (Linux ≥ 4.0), so that the peak after the
    call is the call's own, not Django's start-up's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    try:
        return _status_mb("VmHWM")
    except (OSError, LookupError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(layer: str, path: str) -> None:
    """Refuse one file through one layer; print {"s", "mb", "refused", "message"}."""
    data = Path(path).read_bytes()
    name = "fichier.xlsx"
    if layer == "guard":
        from harmonia.workbook_safety import WorkbookFileError, workbook_file_check

        def run():
            try:
                workbook_file_check(data, name)
            except WorkbookFileError as exc:
                return exc.message
            return None
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harmonia.settings.test")
        import django

        django.setup()
        from django.db import transaction
        from django_tenants.utils import schema_context

        from accounts.models import User
        from forms_cms.models import DocumentType
        from forms_cms.services import FormImportError, form_version_import
        from organisms.services import RegistryFileError, organisms_import
        from tests.dbbuild import build_database, database_exists, database_name, use_database
        from workflow.models import Campaign

        database = database_name()
        (use_database if database_exists(database) else build_database)(database)
        schema = schema_context("dhup")
        schema.__enter__()
        user = User.objects.get(username="gestionnaire")
        document_type = DocumentType.objects.get(code="ER_SOCIAUX")
        campaign = Campaign.objects.get(exercise=2024)

        def run():
            with transaction.atomic():
                try:
                    if layer == "form":
                        form_version_import(
                            document_type=document_type,
                            campaign=campaign,
                            file_name=name,
                            content=data,
                            acting_user=user,
                        )
                    else:
                        organisms_import(content=data, file_name=name, acting_user=user)
                except FormImportError as exc:
                    return exc.problems[0]
                except RegistryFileError as exc:
                    return str(exc)
                finally:
                    transaction.set_rollback(True)
            return None

    reset = _peak_reset()
    before = _status_mb("VmRSS") if reset else _peak_mb()
    start = time.perf_counter()
    message = run()
    elapsed = time.perf_counter() - start
    grown = _peak_mb() - before
    print(
        json.dumps({"s": elapsed, "mb": grown, "refused": message is not None, "message": message})
    )


def files(folder: Path) -> dict[tuple[str, str], Path]:
    """(check, base) → path: each hostile file built on a form workbook and on a registry."""
    from fixtures import hostile_uploads as hostile
    from fixtures.form_workbooks import form_workbook_build

    form_workbook_build("er_moi", folder / "er_moi.xlsx")  # a real (small) form
    bases = {"form": (folder / "er_moi.xlsx").read_bytes(), "registry": hostile.registry_bytes()}
    builders = {name: build for name, (build, _) in hostile.HOSTILE.items()}
    builders["cell_flood"] = lambda base: hostile.many_cells(100_001, base)
    out = {}
    for base_name, base in bases.items():
        for name, build in builders.items():
            path = folder / f"{base_name}-{name}.xlsx"
            path.write_bytes(build(base))
            out[(name, base_name)] = path
    return out


def main() -> None:
    from form_fixture import report

    checks = {}
    with tempfile.TemporaryDirectory() as folder:
        built = files(Path(folder))
        for (name, base), path in sorted(built.items()):
            layers = ("guard", base)
            for layer in layers:
                result = subprocess.run(  # noqa: S603 - our own interpreter and script
                    [sys.executable, __file__, "--child", layer, str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                figures = json.loads(result.stdout.strip().splitlines()[-1])
                if not figures["refused"]:
                    raise SystemExit(f"{name} on a {base} workbook was accepted by {layer}")
                key = f"{name}/{base}/{layer}"
                checks[key] = {
                    "s": round(figures["s"], 4),
                    "mb": round(figures["mb"], 1),
                    "bytes": path.stat().st_size,
                }
    worst_time = max(checks.items(), key=lambda kv: kv[1]["s"])
    worst_memory = max(checks.items(), key=lambda kv: kv[1]["mb"])
    report(
        "hostile_upload_refusal_worst_time",
        worst_time[1]["s"],
        "s",
        2,
        check=worst_time[0],
        checks={k: v["s"] for k, v in checks.items()},
    )
    report(
        "hostile_upload_refusal_worst_peak_memory",
        worst_memory[1]["mb"],
        "MB",
        200,
        check=worst_memory[0],
        measure="peak RSS (VmHWM, reset before the call) minus RSS before, a process per check",
        checks={k: v["mb"] for k, v in checks.items()},
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
