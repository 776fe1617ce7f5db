"""The forms' managed objects in the platform's Wagtail administration, and their journal.

**One write path per object.** Field labels and flags, controls, aggregates and fiabilisation
sub-steps are written only on the gestionnaire's own screens, which call one service each
(``forms_cms.services.fields.field_update``, ``forms_cms.controls``,
``workflow.services.substeps``): permission, row lock, checks, journal entry in Wagtail's log,
the version's ``fields_edited_at`` stamp, and the signals of ``forms_cms.signals`` on commit.
The screens rather than the admin's generic forms, per object, because:

- **fields**: a gestionnaire edits labels while reviewing a version just uploaded, on that
  version's page (filters by sheet, nature, tronc commun; the workbook's own label beside the
  edited one); a generic form across every version's ~10,000 fields adds nothing to that;
- **controls and aggregates**: the screens belong to one version — the sheet list is that
  version's, the formula help and the French decimal tolerance are there, enabling or
  disabling is one click and the previous version's rules are taken over from the same page;
  the generic form offered every version of every document in one drop-down;
- **sub-steps**: a short list edited in place, with each one's dossier count and the refusal
  to delete one that dossiers are in.

The admin keeps each of them **read-only**: a list across versions (filters, search), an
inspect page and the object's history (the journal entries the services write); "Modifier"
(and "Ajouter" for sub-steps) opens the screen, and so do the links of the site history
report. Uploading an Excel support stays on its own screen too (linked from the menu): it is
a file check and a compilation, not a model form.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder, register_admin_url_finder
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.menus import MenuItem as ListMenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import Button

from accounts.models import Role
from forms_cms.models import Aggregate, Control, Field, FormVersion

HISTORY_LABEL = "Historique"


@hooks.register("register_admin_menu_item")
def forms_menu_item():
    return MenuItem(
        "Formulaires (supports Excel)",
        reverse("forms_cms:version_list"),
        icon_name="table",
        order=250,
    )


@hooks.register("register_log_actions")
def register_forms_actions(actions):
    for action, label in (
        ("harmonia.field_updated", "Champ modifié (libellé, obligatoire, tronc commun)"),
        ("harmonia.control_created", "Contrôle créé"),
        ("harmonia.control_updated", "Contrôle modifié"),
        ("harmonia.control_enabled", "Contrôle activé"),
        ("harmonia.control_disabled", "Contrôle désactivé"),
        ("harmonia.control_deleted", "Contrôle supprimé"),
        ("harmonia.aggregate_created", "Agrégat créé"),
        ("harmonia.aggregate_updated", "Agrégat modifié"),
        ("harmonia.aggregate_deleted", "Agrégat supprimé"),
        ("harmonia.rules_carried_over", "Contrôles et agrégats repris de la version précédente"),
        ("harmonia.form_version_uploaded", "Version de formulaire déposée"),
        ("harmonia.form_version_published", "Version de formulaire publiée"),
        ("harmonia.carry_over_updated", "Règles de reprise ou seuils d'écart modifiés"),
        ("harmonia.form_version_migrated", "Dossiers de la campagne migrés vers la version"),
    ):
        actions.register_action(action, label, label)


def _screen_finder(screen_url: Callable) -> type[ModelAdminURLFinder]:
    """Where the admin (site history, links) sends a gestionnaire to change an object."""

    class ScreenURLFinder(ModelAdminURLFinder):
        def construct_edit_url(self, instance):
            return screen_url(instance)

        def get_edit_url(self, instance):
            # the screens admit gestionnaires only
            if self.user is not None and getattr(self.user, "role", None) != Role.GESTIONNAIRE:
                return None
            return screen_url(instance)

    return ScreenURLFinder


# FormVersion has no viewset: its journal entries (upload, migration, carry-over) link to its page
register_admin_url_finder(
    FormVersion,
    _screen_finder(lambda v: reverse("forms_cms:version_detail", args=[v.pk])),
)


class _ScreenIndexView(IndexView):
    screen_url = None
    screen_add_url_name = None
    history_url_name = None

    def get_edit_url(self, instance):
        return self.screen_url(instance)

    def get_add_url(self):
        return reverse(self.screen_add_url_name) if self.screen_add_url_name else None

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        buttons.append(
            ListMenuItem(
                HISTORY_LABEL,
                url=reverse(self.history_url_name, args=[instance.pk]),
                icon_name="history",
                priority=40,
            )
        )
        return buttons


class _ScreenInspectView(InspectView):
    screen_url = None
    history_url_name = None

    def get_edit_url(self):
        return self.screen_url(self.object)

    @property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            Button(
                HISTORY_LABEL,
                url=reverse(self.history_url_name, args=[self.object.pk]),
                icon_name="history",
                priority=30,
            ),
        ]


class _ScreenHistoryView(HistoryView):
    screen_url = None

    def get_edit_url(self, instance):
        return self.screen_url(instance)


class ScreenEditedViewSet(ModelViewSet):
    """Listed, inspected and journalled in the admin; written only on its own screen."""

    index_view_class = _ScreenIndexView
    inspect_view_class = _ScreenInspectView
    history_view_class = _ScreenHistoryView
    inspect_view_enabled = True
    copy_view_enabled = False
    search_backend_name = None
    screen_add_url_name: str | None = None

    def screen_url(self, instance) -> str:
        raise NotImplementedError

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        # no route for them (get_urlpatterns): Wagtail must not build links to them
        view_kwargs.update(add_url_name=None, edit_url_name=None, delete_url_name=None)
        return view_kwargs

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            screen_url=self.screen_url,
            screen_add_url_name=self.screen_add_url_name,
            page_title=self.menu_label,  # some verbose_name_plural are Django's guess
            **kwargs,
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            screen_url=self.screen_url, history_url_name=self.get_url_name("history"), **kwargs
        )

    def get_history_view_kwargs(self, **kwargs):
        return super().get_history_view_kwargs(screen_url=self.screen_url, **kwargs)

    def get_urlpatterns(self):
        # built here rather than filtered from Wagtail's list: that one constructs the write
        # views (and their model forms) too
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
            path("history/<int:pk>/", self.history_view, name="history"),
            path("history-results/<int:pk>/", self.history_results_view, name="history_results"),
            path("usage/<int:pk>/", self.usage_view, name="usage"),
        ]

    @property
    def url_finder_class(self):
        return _screen_finder(self.screen_url)


class FieldViewSet(ScreenEditedViewSet):
    model = Field
    url_prefix = "formulaires/champs"
    menu_label = "Libellés des champs"
    icon = "form"
    list_display = ["name", "label", "sheet", "cell", "kind", "required", "common", "version"]
    list_filter = ["version", "kind", "common", "required"]
    search_fields = ["name", "label"]

    def screen_url(self, instance):
        return reverse("forms_cms:field_edit", args=[instance.version_id, instance.pk])


class ControlViewSet(ScreenEditedViewSet):
    model = Control
    url_prefix = "formulaires/controles"
    menu_label = "Contrôles"
    icon = "tick-inverse"
    list_display = [
        "code",
        "label",
        Column("formula", label="Règle"),
        "severity",
        "enabled",
        "version",
    ]
    list_filter = ["version", "severity", "enabled"]
    search_fields = ["code", "label"]

    def screen_url(self, instance):
        return reverse("forms_cms:control_edit", args=[instance.version_id, instance.pk])


class AggregateViewSet(ScreenEditedViewSet):
    model = Aggregate
    url_prefix = "formulaires/agregats"
    menu_label = "Agrégats"
    icon = "table"
    list_display = ["code", "label", "tab", "formula", "version"]
    list_filter = ["version", "tab"]
    search_fields = ["code", "label"]

    def screen_url(self, instance):
        return reverse("forms_cms:aggregate_edit", args=[instance.version_id, instance.pk])


class FormsGroup(ModelViewSetGroup):
    menu_label = "Formulaires et contrôles"
    menu_icon = "form"
    menu_order = 260
    items = (FieldViewSet, ControlViewSet, AggregateViewSet)


@hooks.register("register_admin_viewset")
def register_forms_viewsets():
    return FormsGroup()
