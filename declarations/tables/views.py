"""The endpoint changing a multivalued table of the online form: one row action per request,
through ``dossier_table_save`` (the dossier's one write gate).

The page's script posts JSON and gets the table's redrawn rows (from the first row the
change touched) and the computed values that changed. Without JavaScript each row button
submits the table's form (``op=insert:3`` …), which also carries the table's cells: cells
changed on screen are saved first (nothing typed is lost), then the action runs, and the
answer is the sheet again (or, to delete a row that holds values, a page asking to
confirm)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.grid import GridTable, table_room, table_rows_html
from declarations.selectors import grid_tables
from declarations.services import DossierClosed, SaveRefused, dossier_table_save
from declarations.services.dossiers import table_current_rows
from declarations.tables.paste import PasteRefused, paste_rows
from declarations.tables.shown import changed_values, row_cells, row_text
from forms_cms.fields import TableMeta, version_tables
from forms_cms.formats import format_value
from forms_cms.models import SheetLayout

MAX_JSON_BYTES = 1024 * 1024
MSG_UNREADABLE = "Requête illisible."
MSG_CONFIRM = "Supprimer la ligne {row} du tableau « {table} » ({values}) ?"
MSG_NO_CHANGE = "Aucune modification à enregistrer."
DONE = {
    "insert": "Ligne ajoutée.",
    "update": "Enregistré.",
    "delete": "Ligne supprimée.",
    "move": "Ligne déplacée.",
    "paste": "{count}.",
    "save": "Saisies du tableau enregistrées.",
}


class _Unreadable(ValueError):
    pass


def _int(value, default=None) -> int:
    if value is None or value == "":
        if default is None:
            raise _Unreadable
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _Unreadable from exc


def _current_rows(dossier, meta: TableMeta) -> list[dict]:
    return table_current_rows(dossier, meta.name)


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def table_save(request, dossier, policy, table):
    """A row action on ``table``: JSON (the page's script) or a form (without JavaScript)."""
    meta = version_tables(dossier.form_version).get(table)
    if meta is None:
        raise Http404("Ce tableau n'existe pas dans ce formulaire.")
    if request.content_type == "application/json":
        return _json_action(request, dossier, meta)
    return _form_action(request, dossier, meta)


# --- JSON, from static/harmonia/dossier_tables.js ---------------------------------------------
def _json_action(request, dossier, meta: TableMeta):
    if len(request.body) > MAX_JSON_BYTES:
        return JsonResponse({"message": "Requête trop volumineuse."}, status=413)
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise _Unreadable
        action = str(payload.get("action", ""))
        index = _int(payload.get("index"), 0)
        seen_count = _int(payload.get("seen_count"))
        entries = payload.get("entries") or {}
        if not isinstance(entries, dict):
            raise _Unreadable
        entries = {str(k): "" if v is None else str(v) for k, v in entries.items()}
    except (ValueError, _Unreadable):
        return JsonResponse({"message": MSG_UNREADABLE}, status=400)
    kwargs = {"index": index, "seen_count": seen_count}
    notes: list[str] = []
    if action in ("insert", "update"):
        kwargs["entries"] = entries
    elif action == "move":
        try:
            kwargs["to"] = _int(payload.get("to"))
        except _Unreadable:
            return JsonResponse({"message": MSG_UNREADABLE}, status=400)
    elif action == "paste":
        try:
            pasted = paste_rows(meta, str(payload.get("column", "")), str(payload.get("text", "")))
        except PasteRefused as exc:
            return JsonResponse({"message": str(exc), "errors": {meta.name: str(exc)}}, status=400)
        kwargs["rows"], notes = pasted.rows, pasted.notes
    elif action == "delete":
        rows = _current_rows(dossier, meta)
        if 0 <= index < len(rows) and row_text(meta, rows[index]) and not payload.get("confirmed"):
            question = MSG_CONFIRM.format(
                row=index + 1, table=meta.name, values=row_text(meta, rows[index])
            )
            return JsonResponse({"confirm": question}, status=409)
    else:
        return JsonResponse({"message": MSG_UNREADABLE}, status=400)
    step_before = dossier.step
    count_before = seen_count
    try:
        result = dossier_table_save(
            dossier=dossier, table=meta.name, action=action, acting_user=request.user, **kwargs
        )
    except DossierClosed as exc:
        return JsonResponse({"message": str(exc)}, status=403)
    except SaveRefused as exc:
        return JsonResponse(
            {"errors": exc.errors, "message": " ".join(exc.errors.values())}, status=400
        )
    tables = grid_tables(dossier.form_version, meta.sheet, dossier.values, dossier.computed)
    own = next(t for t in tables if t.name == meta.name)
    start = _redraw_from(action, index, kwargs.get("to", index), count_before, len(own.rows))
    body = {
        "table": meta.name,
        "count": len(own.rows),
        "cap": meta.max_rows,
        "room": table_room(own),
        "start": start,
        "html": _rows_html(dossier, meta, tables, start) if start is not None else "",
        "cells": row_cells(meta, own.rows[index]) if action == "update" else {},
        **changed_values(dossier.form_version, result.computed),
        "revision": result.revision,
        "step": dossier.step_label,
        "stepper": (
            render_to_string("declarations/_stepper.html", {"dossier": dossier})
            if dossier.step != step_before
            else None
        ),
        "message": " ".join(
            [
                DONE[action].format(
                    count=counted(len(kwargs.get("rows") or []), "ligne collée", "lignes collées")
                ),
                *notes,
            ]
        ),
    }
    return JsonResponse(body)


def _redraw_from(action, index, to, before, after) -> int | None:
    """The first row to draw again (the one above a change too: its « ↓ » button may change);
    None when the rows stay as they are (a cell saved in place)."""
    if action == "update" and before == after:
        return None
    return max(0, min(index, to, before, after) - 1) if before else 0


def _rows_html(dossier, meta: TableMeta, tables: list[GridTable], start: int) -> str:
    layout = (
        SheetLayout.objects.filter(version=dossier.form_version, name=meta.sheet)
        .values_list("layout", flat=True)
        .first()
    )
    return table_rows_html(layout, tables, meta.name, start=start) if layout else ""


# --- a form, without JavaScript ---------------------------------------------------------------
def _sheet_url(dossier, meta: TableMeta) -> str:
    position = (
        SheetLayout.objects.filter(version=dossier.form_version, name=meta.sheet)
        .values_list("position", flat=True)
        .first()
    )
    url = reverse("declarations:sheet", kwargs={"pk": dossier.pk, "index": position or 0})
    return f"{url}#{meta.name}"


def _typed_changes(post, meta: TableMeta, rows: list[dict]) -> list[dict[str, str]]:
    """The table's cells as posted, where they differ from what was drawn: one dict per
    row up to the last changed one (a blank table's drawn row counts as row 1)."""
    changes = []
    for index in range(max(len(rows), 1)):
        stored = rows[index] if index < len(rows) else {}
        entries = {}
        for column in meta.inputs:
            typed = post.get(f"c.{index}.{column.name}")
            if typed is None:
                continue
            shown = format_value(stored.get(column.name), column.data_type, column.number_format)
            if typed.strip() != shown.strip():
                entries[column.name] = typed
        changes.append(entries)
    while changes and not changes[-1]:
        changes.pop()
    return changes


def _form_action(request, dossier, meta: TableMeta):
    back = _sheet_url(dossier, meta)
    op, _, at = request.POST.get("op", "").partition(":")
    try:
        seen_count = _int(request.POST.get("seen_count"))
        index = _int(at, 0)
    except _Unreadable:
        messages.error(request, MSG_UNREADABLE)
        return redirect(back)
    rows = _current_rows(dossier, meta)
    actions = {
        "add": ("insert", {"index": seen_count}),
        "insert": ("insert", {"index": index}),
        "up": ("move", {"index": index, "to": index - 1}),
        "down": ("move", {"index": index, "to": index + 1}),
        "delete": ("delete", {"index": index}),
        "save": (None, {}),
    }
    if op not in actions:
        messages.error(request, MSG_UNREADABLE)
        return redirect(back)
    action, kwargs = actions[op]
    if (
        action == "delete"
        and 0 <= index < len(rows)
        and row_text(meta, rows[index])
        and not request.POST.get("confirmer")
    ):
        return render(
            request,
            "declarations/table_row_delete.html",
            {
                "dossier": dossier,
                "meta": meta,
                "row": index + 1,
                "op": f"delete:{index}",
                "values": row_text(meta, rows[index]),
                "seen_count": seen_count,
                "back": back,
                # what was typed in the table's cells, saved with the confirmed deletion
                "typed": [(k, v) for k, v in request.POST.items() if k.startswith("c.")],
            },
        )
    done = []
    try:
        changes = _typed_changes(request.POST, meta, rows)
        if changes:
            dossier_table_save(dossier=dossier, table=meta.name, action="paste", index=0,
                               rows=changes, seen_count=seen_count,
                               acting_user=request.user)  # fmt: skip
            seen_count = len(dossier.values.get(meta.name) or [])
            done.append(DONE["save"])
        if action is not None:
            if op == "add":
                kwargs["index"] = seen_count
            dossier_table_save(dossier=dossier, table=meta.name, action=action,
                               seen_count=seen_count, acting_user=request.user,
                               **kwargs)  # fmt: skip
            done.append(DONE[action])
    except DossierClosed as exc:
        messages.error(request, str(exc))
    except SaveRefused as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    if done:
        messages.success(request, " ".join(done))
    elif op == "save" and not changes:
        messages.info(request, MSG_NO_CHANGE)
    return redirect(back)
