"""The dossier's write gate (workflow.actions): derived state true after every kind of change,
the first entry journaled as a transition, signals sent once and only for what happened,
and the query counts of the hot paths locked."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from declarations.services import dossier_values_save
from declarations.services.imports import dossier_import_xml
from forms_cms.controls import control_delete, control_enable, control_update
from forms_cms.models import Control
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from forms_cms.verification import dossier_blocking_failures
from tests.conftest import run_queued_jobs
from tests.declarations.test_controls import add_control
from tests.declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from tests.declarations.test_xml import doc_for
from tests.forms_cms.test_migration import campaign_with_dossiers  # noqa: F401
from tests.helpers import fire
from workflow.actions import JSONB_SET_MAX, dossier_values_apply
from workflow.models import Dossier, Step, StepChange, ValueChange
from workflow.services.lifecycle import LifecycleRefused
from workflow.services.migration import form_version_migrate
from workflow.signals import dossier_step_changed, dossier_values_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def stored(dossier) -> Dossier:
    with schema_context("dhup"):
        return Dossier.objects.get(pk=dossier.pk)


def true_count(dossier) -> int:
    with schema_context("dhup"):
        return len(dossier_blocking_failures(Dossier.objects.get(pk=dossier.pk)))


@pytest.fixture
def received():
    """Signals the gate sends, as (signal name, kwargs) in order."""
    seen = []

    def on_values(**kwargs):
        seen.append(("values", kwargs))

    def on_step(**kwargs):
        seen.append(("step", kwargs))

    dossier_values_changed.connect(on_values, dispatch_uid="test-values")
    dossier_step_changed.connect(on_step, dispatch_uid="test-step")
    yield seen
    dossier_values_changed.disconnect(dispatch_uid="test-values")
    dossier_step_changed.disconnect(dispatch_uid="test-step")


def test_first_entry_is_a_journaled_transition_with_its_derived_state(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
    received,
):
    add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="-1")
    dossier = open_dossier(declarant)
    assert dossier.step == Step.INITIALISED and dossier.revision == 0
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "100"}, acting_user=declarant)
        change = StepChange.objects.get(dossier=dossier)
    row = stored(dossier)
    assert (row.step, row.revision, row.failing_controls) == (Step.FILLING, 1, 1)
    assert row.computed["TOTAL_ACTIF"] == 100
    assert (change.transition, change.from_step, change.to_step, change.changed_by) == (
        "start_filling",
        Step.INITIALISED,
        Step.FILLING,
        declarant,
    )
    assert [name for name, _ in received] == ["step", "values"]
    assert received[0][1]["change"] == change
    assert received[1][1]["names"] == ["ACT_IMMO"]
    # the next entry is no transition and sends only its values
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "-1"}, acting_user=declarant)
    assert [name for name, _ in received] == ["step", "values", "values"]
    row = stored(dossier)
    assert (row.revision, row.failing_controls) == (2, 0)
    # nothing changed: no revision, no history, no signal
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "-1"}, acting_user=declarant)
        assert ValueChange.objects.filter(dossier=dossier).count() == 2
    assert stored(dossier).revision == 2 and len(received) == 3


def test_a_save_merges_what_changed_into_the_stored_documents(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
):
    """The UPDATE sends only the changed keys (``jsonb_set`` or ``values || patch - removed``):
    what the row holds afterwards is exactly what a full rewrite would have written."""
    add_control(version, gestionnaire, code="C1", left="TOTAL_ACTIF", right="1000")
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "1 000,50", "TC_ACT_STOCKS": "250"},
            acting_user=declarant,
        )
        with CaptureQueriesContext(connection) as queries:
            dossier_values_save(
                dossier=dossier, entries={"ACT_IMMO": "", "TC_ACT_STOCKS": "7"},
                acting_user=declarant,
            )  # fmt: skip
    update = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE"))
    assert "TOTAL_PASSIF" in update and "TC_ACT_STOCKS" in update
    assert "jsonb_set" in update or "||" in update
    assert "ACT_IMMO" in update  # the cleared field, removed from the document
    row = stored(dossier)
    assert row.values == {"TC_ACT_STOCKS": 7.0}
    with schema_context("dhup"):
        expected = dossier_evaluate(compiled_form(row.form_version), row.values)
    assert row.computed == expected and row.computed["TOTAL_ACTIF"] == 7
    assert row.failing_controls == 1 == true_count(dossier)
    with schema_context("dhup"):  # the caller's instance reads the saved documents again
        assert (dossier.values, dossier.computed) == (row.values, row.computed)


def test_a_save_and_the_sheet_never_read_the_version_change_list(
    version,  # noqa: F811
    declarant,  # noqa: F811
    client_for,
):
    """The change list of a rearranged ER is ~1.4 MB of JSON: kept in its own table, it is
    read by the version pages only, never with the dossier its version is joined to."""
    from forms_cms.models import VersionChanges

    moved = [[f"CHAMP_{i}", f"Bilan!B{i}", f"Bilan!C{i}"] for i in range(2000)]
    with schema_context("dhup"):
        VersionChanges.objects.create(version=version, changes={"moved": moved})
    dossier = open_dossier(declarant)
    owner = client_for("dhup", declarant)
    save = f"/declarations/dossiers/{dossier.pk}/enregistrer/"
    body = json.dumps({"entries": {"ACT_IMMO": "12"}})
    with CaptureQueriesContext(connection) as queries:
        assert owner.post(save, body, content_type="application/json").status_code == 200
        assert owner.get(f"/declarations/dossiers/{dossier.pk}/").status_code == 200
    assert not [q for q in queries.captured_queries if "versionchanges" in q["sql"]]
    with schema_context("dhup"):
        version.refresh_from_db()
        assert version.changes["moved"][1999][0] == "CHAMP_1999"  # the version pages' read


@pytest.mark.parametrize("count", [1, 2, JSONB_SET_MAX, JSONB_SET_MAX + 1, 12])
def test_a_patch_of_any_size_leaves_the_document_a_full_rewrite_would(
    version,  # noqa: F811
    declarant,  # noqa: F811
    count,
):
    """A few keys are merged by chained ``jsonb_set``, more by ``||``; with removals, nested
    lists and keys new to the document, the row ends as Python's merge would write it."""
    from workflow.actions import _jsonb_patch  # the UPDATE's expression, tried on its own

    dossier = open_dossier(declarant)
    rows = [{"NOM": "Filiale « A »", "CAPITAL": 1.5}, {"NOM": None, "CAPITAL": 2}]
    before = {f"K{i}": i for i in range(20)} | {"LISTE": rows, "GONE": "x", "TEXTE": "é"}
    patch = [("LISTE", rows[::-1]), ("NEW", [1])] + [(f"K{i}", i * 10.5) for i in range(count)]
    changed = dict(patch[:count])
    removed = ["GONE", "ABSENT"]
    with schema_context("dhup"):
        Dossier.all_objects.filter(pk=dossier.pk).update(values=before)
        with CaptureQueriesContext(connection) as queries:
            Dossier.all_objects.filter(pk=dossier.pk).update(
                values=_jsonb_patch("values", changed, removed)
            )
        stored_values = Dossier.all_objects.get(pk=dossier.pk).values
    sql = queries.captured_queries[-1]["sql"]
    assert sql.count("jsonb_set") == (count if count <= JSONB_SET_MAX else 0)
    assert ("||" in sql) == (count > JSONB_SET_MAX)
    assert stored_values == {k: v for k, v in (before | changed).items() if k not in removed}


def test_a_few_fields_saved_recompute_exactly_what_a_full_evaluation_gives(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
):
    """A save of a few fields reads only the stored values it needs and recomputes only what
    they affect (workflow.actions.PARTIAL_MAX): after each of many random saves (clears
    included), the row holds what a full evaluation of its values gives, and the count of
    the blocking controls it really fails."""
    import random

    add_control(version, gestionnaire, code="C1", left="TOTAL_ACTIF", operator=">=", right="1000")
    add_control(version, gestionnaire, code="C2", left="PAS_RESULTAT", operator=">", right="0")
    add_control(version, gestionnaire, code="C3", kind="condition", condition="=PAS_CAPITAL<500")
    dossier = open_dossier(declarant)
    rng = random.Random(7)
    fields = ["ACT_IMMO", "TC_ACT_STOCKS", "PAS_CAPITAL"]
    counts = set()
    for _ in range(40):
        chosen = rng.sample(fields, rng.randint(1, 3))
        values = {n: None if rng.random() < 0.2 else float(rng.randint(0, 1500)) for n in chosen}
        with schema_context("dhup"):
            dossier_values_apply(
                dossier=dossier, values=values, acting_user=declarant, source="manual"
            )
            row = Dossier.objects.get(pk=dossier.pk)
            assert row.computed == dossier_evaluate(compiled_form(row.form_version), row.values)
            assert row.failing_controls == len(dossier_blocking_failures(row))
            # the verdicts kept with the count: those of a full evaluation
            failing = sorted(
                c.pk
                for c in Control.objects.filter(
                    code__in=[r.code for r in dossier_blocking_failures(row)],
                    version=row.form_version,
                )
            )
            assert row.failing_checks["ids"] == failing
            assert (dossier.values, dossier.computed) == (row.values, row.computed)
        counts.add(row.failing_controls)
    assert len(counts) > 1  # the saves moved the count both ways


def test_a_save_evaluates_only_the_controls_reading_what_it_changes(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
):
    """A cell save reads the stored cells of the controls that read the changed cells or
    the formulas recomputed from them, not those of the other controls, whose verdicts stay
    as stored; the count stays exact as those cells change in turn."""
    add_control(version, gestionnaire, code="C3", kind="condition", condition="=PAS_CAPITAL<500")
    add_control(version, gestionnaire, code="C4", kind="condition", condition="=TC_ACT_STOCKS<100")
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        c3, c4 = (Control.objects.get(version=version, code=code) for code in ("C3", "C4"))
        dossier_values_save(dossier=dossier, entries={"TC_ACT_STOCKS": "900"},
                            acting_user=declarant)  # fmt: skip
        assert stored(dossier).failing_checks["ids"] == [c4.pk]
        with CaptureQueriesContext(connection) as queries:
            dossier_values_save(dossier=dossier, entries={"PAS_CAPITAL": "900"},
                                acting_user=declarant)  # fmt: skip
        lock = next(q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"])
        # the stored stocks are not read: C4 keeps its verdict
        assert "PAS_CAPITAL" in lock and "TC_ACT_STOCKS" not in lock
        row = stored(dossier)
        assert (row.failing_controls, row.failing_checks["ids"]) == (2, sorted([c3.pk, c4.pk]))
        assert row.failing_controls == true_count(dossier)
        dossier_values_save(dossier=dossier, entries={"TC_ACT_STOCKS": "10"},
                            acting_user=declarant)  # fmt: skip
        row = stored(dossier)
        assert (row.failing_controls, row.failing_checks["ids"]) == (1, [c3.pk])
        assert row.failing_controls == true_count(dossier)


def test_derived_state_follows_the_controls(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
    django_capture_on_commit_callbacks,
):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "100"}, acting_user=declarant)
    assert stored(dossier).failing_controls == 0

    def settle():
        run_queued_jobs()
        count = stored(dossier).failing_controls
        assert count == true_count(dossier)
        return count

    with django_capture_on_commit_callbacks(execute=True):
        control = add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="-1")
    assert settle() == 1  # created
    with django_capture_on_commit_callbacks(execute=True), schema_context("dhup"):
        control_update(
            control=control,
            values={"code": "C1", "label": "Contrôle", "left": "ACT_IMMO", "right": "100"},
            acting_user=gestionnaire,
        )
    assert settle() == 0  # edited: now satisfied
    with django_capture_on_commit_callbacks(execute=True), schema_context("dhup"):
        control_update(
            control=control,
            values={"code": "C1", "label": "Contrôle", "left": "ACT_IMMO", "right": "7"},
            acting_user=gestionnaire,
        )
    assert settle() == 1
    with django_capture_on_commit_callbacks(execute=True), schema_context("dhup"):
        control_enable(control=control, enabled=False, acting_user=gestionnaire)
    assert settle() == 0  # disabled
    with django_capture_on_commit_callbacks(execute=True), schema_context("dhup"):
        control_enable(control=control, enabled=True, acting_user=gestionnaire)
    assert settle() == 1
    with django_capture_on_commit_callbacks(execute=True), schema_context("dhup"):
        control_delete(control=control, acting_user=gestionnaire)
    assert settle() == 0  # deleted


def test_derived_state_after_a_version_migration(campaign_with_dossiers):  # noqa: F811
    gestionnaire, _, v2, dossiers = campaign_with_dossiers
    # the new version brings a blocking control every migrated dossier fails
    add_control(v2, gestionnaire, code="V2", left="ACT_IMMO", right="-1")
    assert all(stored(d).failing_controls == 0 for d in dossiers)
    with schema_context("dhup"):
        form_version_migrate(version=v2, acting_user=gestionnaire)
    for dossier in dossiers:
        row = stored(dossier)
        assert row.form_version_id == v2.pk
        assert row.failing_controls == 1 == true_count(dossier)
        assert row.revision == 1


def test_derived_state_after_an_import_and_a_synchronisation(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
):
    add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="-1")
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_import_xml(
            dossier=dossier, data=doc_for(dossier, "<ACT_IMMO>12</ACT_IMMO>"), acting_user=declarant
        )
    row = stored(dossier)
    assert (row.step, row.failing_controls, row.computed["TOTAL_ACTIF"]) == (Step.FILLING, 1, 12)
    with schema_context("dhup"):
        dossier_values_apply(
            dossier=dossier,
            values={"ACT_IMMO": -1.0},
            acting_user=declarant,
            source=ValueChange.Source.SYNCHRONISATION,
        )
        last = ValueChange.objects.filter(dossier=dossier).first()
    row = stored(dossier)
    assert (row.failing_controls, row.computed["TOTAL_ACTIF"]) == (0, -1)
    assert last.source == ValueChange.Source.SYNCHRONISATION


def test_an_import_evaluates_the_form_once_and_reports_on_that_evaluation(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
    monkeypatch,
):
    """A whole ER's import takes the full path: the write gate evaluates the form, and the
    import's report judges every control on that same evaluation (it did its own before)."""
    from forms_cms.engine import CompiledForm

    add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="-1")
    monkeypatch.setattr("workflow.actions.PARTIAL_MAX", 0)  # this small form, as a whole ER
    dossier = open_dossier(declarant)
    evaluations = []
    evaluate = CompiledForm.evaluate

    def counted(form, *args, **kwargs):
        evaluations.append(form)
        return evaluate(form, *args, **kwargs)

    monkeypatch.setattr(CompiledForm, "evaluate", counted)
    with schema_context("dhup"):
        report = dossier_import_xml(
            dossier=dossier, data=doc_for(dossier, "<ACT_IMMO>12</ACT_IMMO>"), acting_user=declarant
        )
    assert len(evaluations) == 1
    assert report.blocking_failures == ["C1"] and report.applied == [("ACT_IMMO", None, 12.0)]
    assert stored(dossier).failing_controls == 1


def test_a_refused_transition_writes_and_sends_nothing(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
    received,
):
    add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="-1")
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "5"}, acting_user=declarant)
    received.clear()
    with pytest.raises(LifecycleRefused):
        fire(dossier, "validate", declarant)
    assert received == []
    assert stored(dossier).step == Step.FILLING
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "-1"}, acting_user=declarant)
    received.clear()
    fire(dossier, "validate", declarant)
    assert [(name, kw["change"].transition) for name, kw in received] == [("step", "validate")]


# query counts (Zulip's assert_database_query_count): a change here is a decision -----------
def count_queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return len(queries), result


def test_query_counts_of_the_hot_paths(version, declarant, outsider, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    owner = client_for("dhup", declarant)
    save = f"/declarations/dossiers/{dossier.pk}/enregistrer/"
    owner.post(save, json.dumps({"entries": {"ACT_IMMO": "1"}}), content_type="application/json")

    def save_one(value):
        def call():
            body = json.dumps({"entries": {"ACT_IMMO": value}, "revision": 1})
            return owner.post(save, body, content_type="application/json")

        return call

    n, response = count_queries(save_one("2"))
    assert response.status_code == 200
    assert n == SAVE_QUERIES, n
    # counted with the process's caches of the form version warm, as every page after the first
    owner.get(f"/declarations/dossiers/{dossier.pk}/")
    n, response = count_queries(lambda: owner.get(f"/declarations/dossiers/{dossier.pk}/"))
    assert response.status_code == 200
    assert n == SHEET_QUERIES, n
    n, response = count_queries(lambda: owner.get("/declarations/"))
    assert response.status_code == 200
    assert n == LIST_QUERIES, n


# Every request pays 6 for the test client's host lookup (1), the tenant routing (3), the
# session and user (2: session, the user with its membership — organisms.backends); the
# session's idle-expiry refresh is at most once a minute (harmonia.sessions), not counted
# here. The cell save adds its own 6: the
# dossier among the user's, then in the gate's transaction (savepoint, release) the locked
# row, one UPDATE and one INSERT of history — 4 round trips in production besides BEGIN and
# COMMIT, within the DESIGN's "≤ 6 queries". The form's blocking controls are kept by the
# process per version and rules stamp (read again only after an edit of the rules).
SAVE_QUERIES = 12
# the sheet: the dossier, the shown sheet's layout, the release/maintenance banner, the exchange
# space's read mark and unread count, the transmitted documents, the step journal, and for
# the checklist on the sheet tabs the form's controls (the sheets' names, positions and
# hidden flags are kept by the process once read: a stored version's sheets never change,
# forms_cms.fields.version_sheets); the tronc-commun
# pair of its document (the link to the tronc commun's page: the pairs are the ministry's
# gestionnaires' configuration, no longer a constant); the organism's deadline (its rules,
# its approval of the accounts, its prorogations); last year's transmission (the variance
# warnings beside the cells; with one, the version's thresholds add another)
SHEET_QUERIES = 18
# the list: the organism's deadlines add three, whatever the number of its documents
LIST_QUERIES = 12


def test_many_history_rows_are_written_as_few_would_be(version, declarant):  # noqa: F811
    """An import of a whole ER writes thousands of history rows through COPY: the same rows
    as ``bulk_create`` writes for a few (values of every JSON kind, NULL for none)."""
    from workflow.models import COPY_FROM

    dossier = open_dossier(declarant)
    text = "texte « accentué »\ttab\nligne \\ fin"
    # an integer beyond 64 bits: orjson refuses it, the standard library writes it
    kinds = [1.5, text, [{"A": 1, "B": "x"}], None, True, 2**70]

    def record(count, prefix):
        changes = [(f"{prefix}{i}", kinds[i % 6], kinds[(i + 1) % 6]) for i in range(count)]
        ValueChange.objects.record(
            dossier=dossier, changes=changes, note="n", source=ValueChange.Source.IMPORT,
            changed_by=declarant,
        )  # fmt: skip

    with schema_context("dhup"):
        record(COPY_FROM + 50, "MANY_")
        record(6, "FEW_")
        written = list(
            ValueChange.objects.filter(dossier=dossier).order_by("pk").values_list(
                "field_name", "old_value", "new_value", "source", "note", "changed_by",
                "changed_at",
            )
        )  # fmt: skip
        nulls = ValueChange.objects.filter(dossier=dossier, old_value__isnull=True).count()
    many = [w for w in written if w[0].startswith("MANY_")]
    few = [w for w in written if w[0].startswith("FEW_")]
    assert len(many) == COPY_FROM + 50 and len(few) == 6
    assert [w[1:6] for w in many[:6]] == [w[1:6] for w in few]
    assert many[1][1:3] == (text, [{"A": 1, "B": "x"}])
    assert many[4][1:3] == (True, 2**70)
    assert many[0][5] == declarant.pk and many[0][6] is not None
    assert nulls == (COPY_FROM + 50) // 6 + 1 + 1  # SQL NULL, as bulk_create stores None


@pytest.mark.parametrize("schema", ["platform_template", "dhup", "epl"])
def test_the_values_documents_are_stored_uncompressed_on_every_platform(schema):
    """Migrated on the template, kept by the platforms cloned from it (0012's why)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attname IN ('values', 'computed')",
            [f"{schema}.workflow_dossier"],
        )
        assert dict(cursor.fetchall()) == {"values": "e", "computed": "e"}


def test_a_control_edited_on_another_node_counts_at_the_next_save_here(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
):
    """The cell save keeps each version's blocking checks in the process, keyed by the
    version's rules stamp: another node's edit (the row, and the stamp its service moves) is
    the rule this process's next save counts — also when the caller's dossier still holds
    the version as it was before the edit."""
    from django.utils import timezone

    from forms_cms.models import FormVersion

    add_control(version, gestionnaire, code="C1", left="ACT_IMMO", right="100")
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "100"}, acting_user=declarant)
        assert stored(dossier).failing_controls == 0
        # another node: the rule now wants 200, and the stamp moves with it
        Control.objects.filter(version=version, code="C1").update(right="200")
        FormVersion.objects.filter(pk=version.pk).update(rules_changed_at=timezone.now())
        # a field the control does not read: the count still follows the edited rule
        dossier_values_save(dossier=dossier, entries={"PAS_CAPITAL": "5"}, acting_user=declarant)
        assert stored(dossier).failing_controls == 1
        fresh = Dossier.objects.select_related("form_version").get(pk=dossier.pk)
        dossier_values_save(dossier=fresh, entries={"ACT_IMMO": "200"}, acting_user=declarant)
        assert stored(dossier).failing_controls == 0
