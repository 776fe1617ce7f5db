"""Load test: 30 organisms declaring at once through a real server (DESIGN "Targets").

A copy of the suite's test database (bench/load_server.py) gets the ER-Sociaux-sized form
version, 30 new organisms (the registry import), one organisme account each (the
gestionnaires' account service) and their dossiers, each filled by a full XML import (every
input, 50 rows in each list); one more organism's account holds an API token for its editor.
gunicorn serves it (``manage.py serve``, several workers). Each organism's user signs in
(session cookie and CSRF token, as a browser), opens its dossier, then for the whole window
opens a sheet and saves ten of the amounts it shows, one after the other as dossier.js
does (each save carries the stored value and revision the previous one returned), then the
next sheet. Meanwhile a gestionnaire lists the campaign's workspace with filters and the
editor imports a full XML declaration through the editors' API (``/api/v1/declarations/
import``), each with a pause between requests. At the end every value a user saved is
checked in the database.

Prints one JSON line per figure; errors (status ≥ 400, a save not saved, a value lost) are
counted, the first ones shown. Targets: ≥ 150 saves/s, save p95 ≤ 300 ms and sheet page p95
≤ 300 ms with 30 users on 2 cores, 0 errors; the workspace and import figures have none
here (their single-user targets are bench_workspace.py's and bench_xml_import_er.py's).

Then, for ``--floor-seconds`` (10; 0 skips it), the same users send again, one after the
other, texts they saved (each with the value it stored): the whole save request, session,
user, dossier, policy, lock and the read of its cells, without the recomputation and the
writes. ``load_unchanged_saves_per_second`` is the ceiling of this machine for any save.

    python bench/bench_load.py [--organisms 30] [--seconds 30] [--workers 4] [--floor-seconds 10]
    (or HARMONIA_BENCH_LOAD_ORGANISMS, _SECONDS, _WORKERS, _FLOOR_SECONDS)
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field

from declarations_env import full_er_xml
from form_fixture import er_workbook, report
from load_server import (
    cpu_seconds,
    database_copy,
    one_run,
    resolve_localhost_platforms,
    web_server,
)

PASSWORD = "Harmonia-Bench-Load-2024!"  # noqa: S105  (accounts of the throw-away copy)
SAVES_PER_SHEET = 10
GESTIONNAIRE_PAUSE_S = 1.0  # a gestionnaire reads what is listed before the next filter
EDITOR_PAUSE_S = 2.0  # an editor's software sends a declaration now and then, not in a loop
WORKSPACE_QUERIES = ["", "?steps=2&steps=3", "?family=OPH", "?q=bench", "?steps=4&steps=4R"]


# --- data, in the copy, through the project's services ---------------------------------------
@dataclass
class Setup:
    campaign: int
    document_type: int
    users: list[str]  # organisme usernames, one per organism
    dossiers: dict[str, int]  # username -> dossier id
    editor_token: str
    editor_documents: list[bytes]


def prepare(count: int) -> Setup:
    from django_tenants.utils import schema_context

    from accounts.models import Role, User
    from declarations.models import ApiToken
    from declarations.services import dossier_open
    from declarations.services.imports import dossier_import_xml
    from forms_cms.models import DocumentType
    from forms_cms.services import form_version_import
    from organisms.models import Organism
    from organisms.services.memberships import platform_user_create
    from organisms.services.registry_import import organisms_import
    from organisms.siren import with_luhn_key
    from workflow.models import Campaign

    with schema_context("dhup"):
        gestionnaire = User.objects.get(username="gestionnaire")
        document_type = DocumentType.objects.get(code="ER_SOCIAUX")
        campaign = Campaign.objects.get(exercise=2024)
        form_version_import(
            document_type=document_type,
            campaign=campaign,
            file_name="ER.xlsx",
            content=er_workbook().read_bytes(),
            acting_user=gestionnaire,
        )
        taken = set(Organism.objects.values_list("siren", flat=True))
        sirens = [s for s in (with_luhn_key(f"{90000000 + i:08d}") for i in range(count + 50))]
        sirens = [s for s in sirens if s not in taken][: count + 1]
        lines = ["SIREN;Raison sociale;Famille;Département"] + [
            f"{siren};Office bench {i:02d};OPH;{75 + i % 20}" for i, siren in enumerate(sirens)
        ]
        registry = organisms_import(
            content="\n".join(lines).encode(), file_name="bench.csv", acting_user=gestionnaire
        )
        assert registry.ok and registry.created == count + 1, registry.errors
        setup = Setup(campaign.pk, document_type.pk, [], {}, "", [])
        for i, organism in enumerate(Organism.objects.filter(siren__in=sirens).order_by("siren")):
            username = f"bench{i:02d}"
            user = platform_user_create(
                username=username,
                email=f"{username}@bench.harmonia.test",
                first_name="Chargé",
                last_name=f"Bench {i:02d}",
                role=Role.ORGANISME,
                organism=organism,
                acting_user=gestionnaire,
            )
            user.set_password(PASSWORD)  # the account service sends a link instead
            user.save(update_fields=["password"])
            dossier = dossier_open(
                organism=organism, campaign=campaign, document_type=document_type, acting_user=user
            )
            if i == count:  # the last one is the editor's
                setup.editor_token = ApiToken.issue(user=user, name="Éditeur bench")[1]
                setup.editor_documents = [full_er_xml(dossier, seed) for seed in (11, 12, 13)]
                continue
            dossier_import_xml(dossier=dossier, data=full_er_xml(dossier, seed=i), acting_user=user)
            setup.users.append(username)
            setup.dossiers[username] = dossier.pk
    return setup


def stored_values(dossiers: dict[str, int]) -> dict[int, dict]:
    from django_tenants.utils import schema_context

    from workflow.models import Dossier

    with schema_context("dhup"):
        return dict(Dossier.objects.filter(pk__in=dossiers.values()).values_list("pk", "values"))


# --- the clients ---------------------------------------------------------------------------------
@dataclass
class Record:
    kind: str  # save, sheet, workspace, import, sign-in, open
    started: float
    seconds: float
    ok: bool
    detail: str = ""
    size: int = 0


@dataclass
class Run:
    base: str
    deadline: float = 0.0
    records: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    measuring: threading.Event = field(default_factory=threading.Event)

    def call(self, http, kind: str, method: str, path: str, expect=(200,), **kwargs):
        started = time.perf_counter()
        try:
            response = http.request(method, self.base + path, timeout=120, **kwargs)
        except Exception as exc:  # a refused or dropped connection is an error like a 500
            self._record(kind, started, False, f"{method} {path}: {exc!r}")
            return None
        ok = response.status_code in expect
        detail = "" if ok else f"{method} {path}: {response.status_code} {response.text[:200]}"
        self._record(kind, started, ok, detail, len(response.content))
        return response if ok else None

    def _record(self, kind, started, ok, detail="", size=0) -> None:
        record = Record(kind, started, time.perf_counter() - started, ok, detail, size)
        if self.measuring.is_set():
            self.records.append(record)
        if not ok:
            self.errors.append(detail)

    def failed(self, detail: str) -> None:
        self.errors.append(detail)


def session():
    import requests

    http = requests.Session()
    http.headers["User-Agent"] = "harmonia-bench-load"
    return http


def sign_in(run: Run, http, username: str, password: str) -> bool:
    page = run.call(http, "sign-in", "GET", "/comptes/connexion/")
    if page is None:
        return False
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    data = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    done = run.call(
        http, "sign-in", "POST", "/comptes/connexion/", expect=(302,), data=data,
        allow_redirects=False,
    )  # fmt: skip
    return done is not None


INPUT = re.compile(r'<input class="cell" ([^>]*)>')
ATTRIBUTE = re.compile(r'data-([a-z]+)="([^"]*)"')


def sheet_cells(page: str) -> dict[str, tuple[str, object]]:
    """The amounts and integers a sheet shows as editable single cells (not a list's), with
    their type and the stored value each carries (``data-seen``): what dossier.js saves."""
    cells = {}
    for match in INPUT.finditer(page):
        attributes = dict(ATTRIBUTE.findall(match.group(1)))
        if "tb" in attributes or attributes.get("t") not in ("amount", "integer"):
            continue
        if " disabled" in match.group(1):
            continue
        name = html.unescape(attributes["n"])
        cells[name] = (attributes["t"], json.loads(html.unescape(attributes["seen"])))
    return cells


@dataclass
class Typist:
    """What one organism's user holds after the window: its signed-in session, the page's CSRF
    token and, per cell it saved, the text it typed and the value the server stored."""

    http: object = None
    csrf: str = ""
    typed: dict[str, tuple[str, object]] = field(default_factory=dict)


def declarant(
    run: Run, setup: Setup, username: str, index: int, ready: threading.Barrier, typist: Typist
):
    """One organism's user: sign in, open the dossier, then sheets and saves until the end."""
    http = typist.http = session()
    rng = random.Random(index)
    saved: dict[str, object] = {}  # what the server said it stored, field by field
    try:
        if not sign_in(run, http, username, PASSWORD):
            return saved
        first = run.call(
            http, "open", "GET", f"/declarations/ouvrir/{setup.campaign}/{setup.document_type}/"
        )
        if first is None:
            return saved
        dossier = setup.dossiers[username]
        if f"/declarations/dossiers/{dossier}/" not in first.url:
            run.failed(f"{username}: opened {first.url}, not its dossier {dossier}")
            return saved
        tabs = re.findall(rf"/dossiers/{dossier}/feuilles/(\d+)/", first.text)
        sheets = sorted({int(n) for n in tabs})
        save_url = f"/declarations/dossiers/{dossier}/enregistrer/"
    finally:
        ready.wait()
    position = index % len(sheets)
    while time.perf_counter() < run.deadline:
        sheet = sheets[position % len(sheets)]
        position += 1
        page = run.call(http, "sheet", "GET", f"/declarations/dossiers/{dossier}/feuilles/{sheet}/")
        if page is None:
            continue
        csrf = typist.csrf = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text
        ).group(1)
        revision = int(re.search(r'data-revision="(\d+)"', page.text).group(1))
        cells = sheet_cells(page.text)
        for name in rng.sample(sorted(cells), min(SAVES_PER_SHEET, len(cells))):
            if time.perf_counter() >= run.deadline:
                break
            kind, seen = cells[name]
            typed = (
                f"{rng.randint(0, 10**7)},{rng.randint(0, 99):02d}"
                if kind == "amount"
                else str(rng.randint(0, 5000))
            )
            body = {"entries": {name: typed}, "seen": {name: seen}, "revision": revision}
            response = run.call(
                http, "save", "POST", save_url, data=json.dumps(body),
                headers={"Content-Type": "application/json", "X-CSRFToken": csrf,
                         "Referer": run.base + "/"},
            )  # fmt: skip
            if response is None:
                continue
            answer = response.json()
            if name not in answer.get("saved", {}):
                run.failed(f"{username} {name}: not in the answer {str(answer)[:200]}")
                continue
            saved[name] = answer["saved"][name]["seen"]
            cells[name] = (kind, saved[name])
            typist.typed[name] = (typed, saved[name])
            revision = answer["revision"]
    return saved


def unchanged(run: Run, setup: Setup, username: str, typist: Typist, ready: threading.Barrier):
    """The same user saving again what it typed: the whole request (session, user, dossier,
    policy, the lock and the read of the cells) without the recomputation and the writes."""
    ready.wait()
    rng = random.Random(username)
    cells = sorted(typist.typed)
    save_url = f"/declarations/dossiers/{setup.dossiers[username]}/enregistrer/"
    while cells and time.perf_counter() < run.deadline:
        name = rng.choice(cells)
        typed, seen = typist.typed[name]
        body = {"entries": {name: typed}, "seen": {name: seen}}
        response = run.call(
            typist.http, "unchanged", "POST", save_url, data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRFToken": typist.csrf,
                     "Referer": run.base + "/"},
        )  # fmt: skip
        if response is not None and response.json().get("saved"):
            run.failed(f"{username} {name}: the same text saved again changed the value")


def gestionnaire(run: Run, setup: Setup, ready: threading.Barrier):
    http = session()
    try:
        signed = sign_in(run, http, "gestionnaire", "Harmonia-Demo-2024!")
    finally:
        ready.wait()
    i = 0
    while signed and time.perf_counter() < run.deadline:
        query = WORKSPACE_QUERIES[i % len(WORKSPACE_QUERIES)]
        run.call(http, "workspace", "GET", f"/campagnes/{setup.campaign}/dossiers/{query}")
        i += 1
        time.sleep(GESTIONNAIRE_PAUSE_S)


def editor(run: Run, setup: Setup, ready: threading.Barrier):
    http = session()
    headers = {"Authorization": f"Bearer {setup.editor_token}", "Content-Type": "application/xml"}
    ready.wait()
    i = 0
    while time.perf_counter() < run.deadline:
        document = setup.editor_documents[i % len(setup.editor_documents)]
        path = "/api/v1/declarations/import"
        run.call(http, "import", "POST", path, data=document, headers=headers)
        i += 1
        time.sleep(EDITOR_PAUSE_S)


class Worker(threading.Thread):
    def __init__(self, target, *args):
        super().__init__(daemon=True)
        self.target, self.args, self.result = target, args, None

    def run(self):
        try:
            self.result = self.target(*self.args)
        except Exception as exc:  # counted, and the others go on
            self.args[0].failed(f"{self.target.__name__}: {exc!r}")


def measured_window(run: Run, server_pid: int, seconds: float, workers_for):
    """Start the workers ``workers_for(ready)`` gives (each waits on the barrier ``ready`` when
    it is ready), open the window once all are, wait for them: the window's length and where
    the machine's CPU went meanwhile (2 cores: 2 s per second), and the workers."""
    cpu = {}

    def start_window():  # run by one thread before the barrier lets any go
        cpu.update(before=cpu_seconds(server_pid), client=time.process_time())
        run.deadline = time.perf_counter() + seconds
        run.measuring.set()

    count = len(workers_for(None))
    ready = threading.Barrier(count + 1, action=start_window)  # + this thread
    workers = workers_for(ready)
    for worker in workers:
        worker.start()
    ready.wait()
    window = time.perf_counter()
    for worker in workers:
        worker.join()
    window = time.perf_counter() - window
    after = cpu_seconds(server_pid)
    used = {f"{k}_cpu_s": round(after[k] - cpu["before"][k], 1) for k in after}
    used["client_cpu_s"] = round(time.process_time() - cpu["client"], 1)
    return window, used, workers


def say(started: float, message: str) -> None:
    print(f"[bench_load {time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr)


# --- figures -------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = (
        ("organisms", int, 30), ("seconds", float, 30), ("workers", int, 4),
        ("floor_seconds", float, 10),
    )  # fmt: skip
    for name, kind, default in options:
        variable = f"HARMONIA_BENCH_LOAD_{name.upper()}"
        default = kind(os.environ.get(variable, default))
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    resolve_localhost_platforms()
    with one_run(), database_copy() as url:
        setup = prepare(args.organisms)
        setup_s = time.perf_counter() - started
        say(started, f"database copy with {args.organisms} filled dossiers ready")
        with web_server(url, args.workers) as (port, server_pid, log):
            say(started, f"server up, {args.workers} workers")
            run = Run(base=f"http://dhup.localhost:{port}")
            typists = {username: Typist() for username in setup.users}

            def users(ready):
                return [
                    Worker(declarant, run, setup, username, i, ready, typists[username])
                    for i, username in enumerate(setup.users)
                ] + [Worker(gestionnaire, run, setup, ready), Worker(editor, run, setup, ready)]

            # everyone signed in and each dossier opened once (which warms the workers) before
            # the window opens
            window, used, workers = measured_window(run, server_pid, args.seconds, users)
            say(started, "window closed")
            floor = Run(base=run.base)
            if args.floor_seconds > 0:
                floor_window, floor_used, _ = measured_window(
                    floor, server_pid, args.floor_seconds,
                    lambda ready: [
                        Worker(unchanged, floor, setup, username, typists[username], ready)
                        for username in setup.users
                    ],
                )  # fmt: skip
                say(started, "unchanged saves' window closed")
            problems = run.errors + floor.errors
            if problems:  # the server's side of them, before its log goes
                lines = [x for x in log.read_text().splitlines() if "gunicorn.access" not in x]
                print("\n".join(lines[-40:]), file=sys.stderr)
        expected = {u: w.result or {} for u, w in zip(setup.users, workers, strict=False)}
        stored = stored_values(setup.dossiers)
    lost = [
        f"{user} {name}: saved {value!r}, stored {stored[setup.dossiers[user]].get(name)!r}"
        for user, values in expected.items()
        for name, value in values.items()
        if stored[setup.dossiers[user]].get(name) != value
    ]
    times = {}
    for record in run.records:
        if record.ok:
            times.setdefault(record.kind, []).append(record.seconds)
    saves = times.get("save", [])
    common = {"organisms": args.organisms, "workers": args.workers, "cpus": os.cpu_count()}
    report(
        "load_saves_per_second", round(len(saves) / window, 1), "saves/s", 150,
        saves=len(saves), window_s=round(window, 1), **used, setup_s=round(setup_s, 1),
        total_s=round(time.perf_counter() - started, 1), **common,
    )  # fmt: skip
    report(
        "load_save_p95", percentile(saves, 0.95), "ms", 300,
        p50_ms=percentile(saves, 0.5), p99_ms=percentile(saves, 0.99), **common,
    )  # fmt: skip
    pages = times.get("sheet", [])
    largest = max((r.size for r in run.records if r.kind == "sheet" and r.ok), default=0)
    report(
        "load_sheet_page_p95", percentile(pages, 0.95), "ms", 300,
        p50_ms=percentile(pages, 0.5), p99_ms=percentile(pages, 0.99), pages=len(pages),
        largest_sheet_p95_ms=percentile(
            [r.seconds for r in run.records if r.kind == "sheet" and r.ok and r.size == largest],
            0.95,
        ),
        **common,
    )  # fmt: skip
    listed = times.get("workspace", [])
    report(
        "load_workspace_list_p95", percentile(listed, 0.95), "ms", None,
        p50_ms=percentile(listed, 0.5), requests=len(listed), **common,
    )  # fmt: skip
    imports = times.get("import", [])
    report(
        "load_xml_import_p95", percentile(imports, 0.95), "ms", None,
        p50_ms=percentile(imports, 0.5), imports=len(imports), **common,
    )  # fmt: skip
    errors = run.errors + lost
    if args.floor_seconds > 0:
        again = [r.seconds for r in floor.records if r.ok and r.kind == "unchanged"]
        report(
            "load_unchanged_saves_per_second", round(len(again) / floor_window, 1), "saves/s",
            None, p50_ms=percentile(again, 0.5), p95_ms=percentile(again, 0.95),
            saves=len(again), window_s=round(floor_window, 1), **floor_used, **common,
        )  # fmt: skip
        errors += floor.errors
    report(
        "load_errors", len(errors), "errors", 0, lost=len(lost), first=errors[:5],
        requests=len(run.records), **common,
    )  # fmt: skip
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
