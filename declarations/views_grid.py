"""The stylesheet of a sheet's grid: the fills, widths and heights of its cells, which the
Content-Security-Policy forbids as style attributes (declarations/grid.py)."""

from __future__ import annotations

from collections import OrderedDict

from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.permissions import role_required
from declarations.grid import GridTable, sheet_stylesheet, stylesheet_stamp
from forms_cms.fields import version_tables
from forms_cms.models import SheetLayout

YEAR = 365 * 24 * 3600


def sheet_css(sheet: SheetLayout) -> str:
    tables = [
        GridTable(meta, [], [])
        for meta in version_tables(sheet.version).values()
        if meta.sheet == sheet.name
    ]
    return sheet_stylesheet(sheet.layout, tables)


# (schema, sheet, fields' edit time) → (css, stamp): a stored sheet's layout never changes, and
# working it out again at each page took ~30 ms of the largest sheet's render.
_STAMPED: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
_STAMPED_MAX = 64


def sheet_css_stamped(sheet: SheetLayout) -> tuple[str, str]:
    key = (connection.schema_name, sheet.pk, sheet.version.fields_edited_at)
    found = _STAMPED.get(key)
    if found is None:
        css = sheet_css(sheet)
        found = _STAMPED[key] = (css, stylesheet_stamp(css))
        while len(_STAMPED) > _STAMPED_MAX:
            _STAMPED.popitem(last=False)
    return found


def sheet_css_url(sheet: SheetLayout) -> str:
    stamp = sheet_css_stamped(sheet)[1]
    return reverse("declarations:sheet_css", kwargs={"pk": sheet.pk, "stamp": stamp})


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.PARTENAIRE)
def sheet_stylesheet_view(request, pk: int, stamp: str):
    """Anyone of the platform who may see a sheet; the stamp in the address is the digest
    of the content, so the answer is kept a year by the browser (never by a shared cache:
    it needs a session)."""
    sheet = get_object_or_404(SheetLayout.objects.select_related("version"), pk=pk)
    css, expected = sheet_css_stamped(sheet)
    if expected != stamp:
        raise Http404("Cette feuille de style n'existe plus.")
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"private, max-age={YEAR}, immutable"
    return response
