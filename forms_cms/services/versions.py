"""Uploading an Excel support: check, read, compile, store a new form version — or nothing.

Everything is derived at upload and stored with the version (fields, sheet layouts, compiled
formulas, specification file, XSD, change list), inside one transaction: a workbook that
fails any check leaves the platform exactly as it was.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from harmonia.workbook_safety import WorkbookFileError, workbook_open
from wagtail.log_actions import log

from accounts.models import Role
from forms_cms.engine import CompileError, workbook_compile
from forms_cms.models import (
    DocumentType,
    Field,
    FormVersion,
    SheetLayout,
    VersionChanges,
    VersionFile,
)
from forms_cms.signals import version_published, version_uploaded
from forms_cms.workbook.catalogue import Catalogue, CatalogueError, FieldSpec, catalogue_read
from forms_cms.workbook.catalogue import catalogue_diff as catalogue_changes
from forms_cms.workbook.layout import sheet_layouts
from forms_cms.workbook.specfile import specification_file
from forms_cms.workbook.xsd import TableSpec, xsd_build
from tenants.security_events import upload_refused_record

MSG_ONLY_GESTIONNAIRE = "Seul un gestionnaire de la plateforme peut déposer un formulaire."
MSG_ONLY_GESTIONNAIRE_PUBLISH = "Seul un gestionnaire de la plateforme peut publier un formulaire."
MSG_NOT_COLLECTED = (
    "La campagne {campaign} ne collecte pas le document « {document} » : choisissez une autre "
    "campagne ou ajoutez ce document à la campagne."
)
MSG_MISMATCH = (
    "Le nom {name} désigne la cellule {where} mais le moteur de calcul ne l'a pas retrouvé : "
    "vérifiez ce nom dans le gestionnaire de noms d'Excel."
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FormImportError(Exception):
    """The workbook was refused; ``problems`` are the messages for the gestionnaire."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class _Derived:
    catalogue: Catalogue
    artifact: bytes
    layouts: list[dict]
    specification: bytes
    stats: dict
    tables: list[TableSpec]


def _derive(content: bytes, file_name: str) -> _Derived:
    """Everything a version needs from its workbook, or FormImportError."""
    started = time.perf_counter()
    try:
        wb = workbook_open(content, file_name)
    except WorkbookFileError as exc:
        upload_refused_record(exc, filename=file_name, what="Support Excel d'un formulaire")
        raise FormImportError([str(exc)]) from exc
    opened = time.perf_counter()
    problems: list[str] = []
    catalogue = None
    try:
        catalogue = catalogue_read(wb, source=content)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    catalogued = time.perf_counter()
    form = None
    try:
        form = workbook_compile(None, workbook=wb)
    except CompileError as exc:
        problems.extend(p.message() for p in exc.problems)
    compiled = time.perf_counter()
    if catalogue is not None and form is not None:
        columns = {c.field for t in form.tables.values() for c in t.columns}
        for spec in catalogue.fields:
            if spec.name not in (columns if spec.table else form.names):
                problems.append(MSG_MISMATCH.format(name=spec.name, where=spec.where))
    if problems:
        raise FormImportError(problems)
    layouts = sheet_layouts(wb, catalogue.fields_by_cell())
    laid_out = time.perf_counter()
    specification = specification_file(content)
    artifact = form.dumps()
    done = time.perf_counter()
    stats = {
        "open_s": round(opened - started, 3),
        "catalogue_s": round(catalogued - opened, 3),
        "compile_s": round(compiled - catalogued, 3),
        "layout_s": round(laid_out - compiled, 3),
        "specification_s": round(done - laid_out, 3),
        "formulas": len(form.order),
        "cells": len(form.cells) - 1,
        "artifact_bytes": len(artifact),
    }
    by_name = {spec.name: spec for spec in catalogue.fields if spec.table}
    tables = [
        TableSpec(
            name=name,
            max_rows=info.max_rows,
            columns=[by_name[c.field] for c in info.columns if c.field in by_name],
        )
        for name, info in form.tables.items()
    ]
    return _Derived(catalogue, artifact, layouts, specification, stats, tables)


def version_catalogue(version: FormVersion) -> Catalogue:
    """The catalogue of a stored version, as the workbook defined it (labels from the file)."""
    return Catalogue(
        fields=[
            FieldSpec(
                name=f.name,
                sheet=f.sheet,
                cell=f.cell,
                row=f.row,
                column=f.column,
                kind=f.kind,
                data_type=f.data_type,
                choices=list(f.choices),
                number_format=f.number_format,
                label=f.workbook_label,
                required=f.required,
                common=f.common,
                formula=f.formula,
                table=f.table,
            )
            for f in version.fields.all()
        ]
    )


def form_version_import(
    *,
    document_type: DocumentType,
    campaign,
    file_name: str,
    content: bytes,
    acting_user,
    draft: bool = False,
) -> FormVersion:
    """Create the next version of ``document_type`` from an uploaded workbook: published at
    once, or kept as a draft (``draft``) that only gestionnaires and editors see until
    :func:`form_version_publish`."""
    if acting_user.role != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)
    if not campaign.document_types.filter(pk=document_type.pk).exists():
        raise FormImportError(
            [MSG_NOT_COLLECTED.format(campaign=campaign, document=document_type.label)]
        )
    derived = _derive(content, file_name)
    with transaction.atomic():
        # lock the document type so that two uploads cannot take the same number
        DocumentType.objects.select_for_update().get(pk=document_type.pk)
        latest = FormVersion.objects.filter(document_type=document_type).order_by("-number").first()
        number = latest.number + 1 if latest else 1
        # the change list (and the labels carried over) against the latest published
        # version: a draft's changes are never shown, nor counted, to those who cannot see it
        previous = (
            FormVersion.objects.filter(document_type=document_type, published_at__isnull=False)
            .order_by("-number")
            .first()
        )
        started = time.perf_counter()
        xsd = xsd_build(
            [f for f in derived.catalogue.fields if not f.table],
            form_code=document_type.code,
            version=str(number),
            tables=derived.tables,
        )
        derived.stats["xsd_s"] = round(time.perf_counter() - started, 3)
        changes = (
            catalogue_changes(version_catalogue(previous), derived.catalogue).as_dict()
            if previous
            else {}
        )
        fields = derived.catalogue.fields
        version = FormVersion.objects.create(
            document_type=document_type,
            campaign=campaign,
            number=number,
            source_name=file_name[:255],
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=acting_user,
            previous=previous,
            stats=derived.stats,
            input_count=sum(1 for f in fields if f.kind == Field.Kind.INPUT),
            computed_count=sum(1 for f in fields if f.kind == Field.Kind.COMPUTED),
            common_count=sum(1 for f in fields if f.common),
            published_at=None if draft else timezone.now(),
            published_by=None if draft else acting_user,
        )
        if changes:
            VersionChanges.objects.create(version=version, changes=changes)
        _store_files(version, file_name, content, derived, xsd)
        _store_fields(version, fields, previous)
        SheetLayout.objects.bulk_create(
            SheetLayout(version=version, position=i, name=layout["name"], layout=layout)
            for i, layout in enumerate(derived.layouts)
        )
        # the second opinion, and the editors' subscribers when it is published (receivers):
        # queued in this transaction, so only if stored
        version_uploaded.send(sender=FormVersion, version=version)
        if not draft:
            version_published.send(sender=FormVersion, version=version)
        log(
            instance=version,
            action="harmonia.form_version_uploaded",
            user=acting_user,
            data={
                "document_type": document_type.code,
                "number": number,
                "campaign": campaign.exercise,
                "file_name": version.source_name,
                "sha256": version.sha256,
                "fields": len(fields),
                "draft": draft,
            },
        )
    return version


MSG_ALREADY_PUBLISHED = (
    "La version {number} de « {document} » est déjà publiée (le {date}) : rien n'a changé."
)


class FormPublishRefused(Exception):
    """Publishing was refused; the message says why (nothing changed)."""


def form_version_publish(*, version: FormVersion, acting_user) -> FormVersion:
    """Publish a draft version: from now on dossiers of its campaign open with it (when it is
    the latest published) and organisms and partners see it; the editors' subscribers hear of
    it. A version already published is refused with the reason, nothing changed."""
    if acting_user.role != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE_PUBLISH)
    with transaction.atomic():
        locked = (
            FormVersion.objects.select_for_update()
            .select_related("document_type")
            .get(pk=version.pk)
        )
        if locked.published_at is not None:
            raise FormPublishRefused(
                MSG_ALREADY_PUBLISHED.format(
                    number=locked.number,
                    document=locked.document_type.label,
                    date=timezone.localtime(locked.published_at).strftime("%d/%m/%Y à %H:%M"),
                )
            )
        locked.published_at, locked.published_by = timezone.now(), acting_user
        locked.save(update_fields=["published_at", "published_by"])
        version_published.send(sender=FormVersion, version=locked)
        log(
            instance=locked,
            action="harmonia.form_version_published",
            user=acting_user,
            data={"document_type": locked.document_type.code, "number": locked.number},
        )
    version.published_at, version.published_by = locked.published_at, acting_user
    return locked


def _store_files(version, file_name, content, derived: _Derived, xsd: bytes) -> None:
    stem = f"{version.document_type.code}-v{version.number}"
    files = [
        (VersionFile.Kind.SOURCE, file_name, XLSX_TYPE, content),
        (VersionFile.Kind.COMPILED, f"{stem}.form", "application/octet-stream", derived.artifact),
        (VersionFile.Kind.SPECIFICATION, f"{stem}-specification.xlsx", XLSX_TYPE,
         derived.specification),
        (VersionFile.Kind.XSD, f"{stem}.xsd", "application/xml", xsd),
    ]  # fmt: skip
    VersionFile.objects.bulk_create(
        VersionFile(
            version=version,
            kind=kind,
            filename=name[:255],
            content_type=content_type,
            content=data,
            size=len(data),
        )
        for kind, name, content_type, data in files
    )


def _store_fields(version, fields: list[FieldSpec], previous) -> None:
    # labels, flags edited by a gestionnaire on the previous version carry over
    edited = {}
    if previous is not None:
        for old in previous.fields.all():
            edited[old.name.upper()] = old
    rows = []
    for position, spec in enumerate(fields):
        label = spec.label or spec.name
        required, common = spec.required, spec.common
        old = edited.get(spec.name.upper())
        if old is not None and old.label_edited:
            label = old.label
        rows.append(
            Field(
                version=version,
                name=spec.name,
                sheet=spec.sheet,
                cell=spec.cell,
                row=spec.row,
                column=spec.column,
                kind=spec.kind,
                data_type=spec.data_type,
                choices=spec.choices,
                number_format=(spec.number_format or "")[:100],
                workbook_label=(spec.label or spec.name)[:500],
                label=label[:500],
                required=required,
                common=common,
                formula=spec.formula,
                position=position,
                table=spec.table,
            )
        )
    Field.objects.bulk_create(rows, batch_size=2000)
