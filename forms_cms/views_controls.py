"""Gestionnaire screens for a form version's controls and key aggregates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from forms_cms import controls as rules
from forms_cms.models import Aggregate, Control
from forms_cms.selectors import form_versions

FORMULA_HELP = (
    "Syntaxe des formules Excel, avec les noms des champs (ex. <code>TOTAL_ACTIF</code> ou "
    "<code>SUM(ACT_IMMO,TC_ACT_STOCKS)</code>), sans adresse de cellule."
)


class ControlForm(forms.ModelForm):
    sheet = forms.ChoiceField(label="Feuille", required=False)

    class Meta:
        model = Control
        fields = [
            "code",
            "label",
            "severity",
            "kind",
            "left",
            "operator",
            "right",
            "tolerance",
            "condition",
            "message",
            "sheet",
            "position",
            "enabled",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "severity": forms.RadioSelect,
            "left": forms.Textarea(attrs={"rows": 2}),
            "right": forms.Textarea(attrs={"rows": 2}),
            "condition": forms.Textarea(attrs={"rows": 2}),
            "message": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "code": "Identifiant court, unique dans la version (ex. C001).",
            "severity": "Un contrôle bloquant en échec empêche la transmission du dossier ; "
            "un avertissement est seulement signalé.",
            "kind": "Comparaison : membre de gauche, opérateur, membre de droite, à la "
            "tolérance près. Condition : une formule qui doit donner VRAI.",
            "left": FORMULA_HELP,
            "right": FORMULA_HELP,
            "tolerance": "Écart admis, positif ou nul (ex. 1 pour TOTAL_ACTIF = TOTAL_PASSIF "
            "à 1 € près). Pour un pourcentage, 0,01 = 1 point.",
            "condition": "Pour une condition seulement, ex. "
            "<code>OR(PAS_CAPITAL&gt;0,ISBLANK(ACT_IMMO))</code>.",
            "message": "Affiché en cas d'échec. Valeurs citables : {gauche}, {droite}, {ecart}, "
            "{tolerance}, {operateur}, {valeur} et tout champ entre accolades "
            "(ex. {TOTAL_ACTIF}). Vide : message par défaut avec les valeurs.",
            "position": "Ordre d'affichage ; vide ou 0 : à la fin.",
        }

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        sheets = list(version.sheets.order_by("position").values_list("name", flat=True))
        self.fields["sheet"].choices = [
            ("", "Automatique (feuille du premier champ cité)"),
            *((s, s) for s in sheets),
        ]
        self.fields["tolerance"].localize = True
        self.fields["tolerance"].widget.is_localized = True
        self.fields["position"].required = False

    def clean_position(self):
        return self.cleaned_data.get("position") or 0


class AggregateForm(forms.ModelForm):
    class Meta:
        model = Aggregate
        fields = ["tab", "code", "label", "formula", "data_type", "position"]
        widgets = {"formula": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "tab": "Onglet où l'agrégat est présenté (ex. SF, AE).",
            "code": "Identifiant court, unique dans la version.",
            "formula": FORMULA_HELP,
            "position": "Ordre d'affichage ; vide ou 0 : à la fin.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False

    def clean_position(self):
        return self.cleaned_data.get("position") or 0


def _refused(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        form.add_error(name if name in form.fields else None, message)


def _version(pk):
    return get_object_or_404(form_versions(), pk=pk)


@role_required(Role.GESTIONNAIRE)
def control_list(request, pk):
    version = _version(pk)
    return render(
        request,
        "forms_cms/controls/control_list.html",
        {
            "version": version,
            "controls": version.controls.all(),
            "aggregates": version.aggregates.all(),
            "previous": version.previous,
        },
    )


@role_required(Role.GESTIONNAIRE)
def control_edit(request, pk, control_pk=None):
    version = _version(pk)
    control = (
        get_object_or_404(Control, pk=control_pk, version=version)
        if control_pk
        else Control(version=version)
    )
    form = ControlForm(request.POST or None, instance=control, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            if control.pk:
                saved = rules.control_update(
                    control=control, values=form.cleaned_data, acting_user=request.user
                )
            else:
                saved = rules.control_create(
                    version=version, values=form.cleaned_data, acting_user=request.user
                )
        except rules.RuleRefused as exc:
            _refused(form, exc.errors)
        else:
            messages.success(request, f"Contrôle {saved.code} enregistré.")
            return redirect("forms_cms:control_list", pk=version.pk)
    return render(
        request,
        "forms_cms/controls/rule_form.html",
        {"version": version, "form": form, "instance": control, "what": "contrôle"},
    )


@role_required(Role.GESTIONNAIRE)
@require_POST
def control_toggle(request, pk, control_pk):
    control = get_object_or_404(Control, pk=control_pk, version_id=pk)
    rules.control_enable(control=control, enabled=not control.enabled, acting_user=request.user)
    state = "activé" if control.enabled else "désactivé"
    messages.success(request, f"Contrôle {control.code} {state}.")
    return redirect("forms_cms:control_list", pk=pk)


@role_required(Role.GESTIONNAIRE)
def control_delete(request, pk, control_pk):
    version = _version(pk)
    control = get_object_or_404(Control, pk=control_pk, version=version)
    if request.method == "POST":
        rules.control_delete(control=control, acting_user=request.user)
        messages.success(request, f"Contrôle {control.code} supprimé.")
        return redirect("forms_cms:control_list", pk=version.pk)
    return render(
        request,
        "forms_cms/controls/confirm_delete.html",
        {"version": version, "instance": control, "what": "le contrôle"},
    )


@role_required(Role.GESTIONNAIRE)
def aggregate_edit(request, pk, aggregate_pk=None):
    version = _version(pk)
    aggregate = (
        get_object_or_404(Aggregate, pk=aggregate_pk, version=version)
        if aggregate_pk
        else Aggregate(version=version)
    )
    form = AggregateForm(request.POST or None, instance=aggregate)
    if request.method == "POST" and form.is_valid():
        try:
            if aggregate.pk:
                saved = rules.aggregate_update(
                    aggregate=aggregate, values=form.cleaned_data, acting_user=request.user
                )
            else:
                saved = rules.aggregate_create(
                    version=version, values=form.cleaned_data, acting_user=request.user
                )
        except rules.RuleRefused as exc:
            _refused(form, exc.errors)
        else:
            messages.success(request, f"Agrégat {saved.code} enregistré.")
            return redirect("forms_cms:control_list", pk=version.pk)
    return render(
        request,
        "forms_cms/controls/rule_form.html",
        {"version": version, "form": form, "instance": aggregate, "what": "agrégat"},
    )


@role_required(Role.GESTIONNAIRE)
def aggregate_delete(request, pk, aggregate_pk):
    version = _version(pk)
    aggregate = get_object_or_404(Aggregate, pk=aggregate_pk, version=version)
    if request.method == "POST":
        rules.aggregate_delete(aggregate=aggregate, acting_user=request.user)
        messages.success(request, f"Agrégat {aggregate.code} supprimé.")
        return redirect("forms_cms:control_list", pk=version.pk)
    return render(
        request,
        "forms_cms/controls/confirm_delete.html",
        {"version": version, "instance": aggregate, "what": "l'agrégat"},
    )


@role_required(Role.GESTIONNAIRE)
def controls_carry_over(request, pk):
    """Taking over the previous version's rules: preview (GET), copy (POST)."""
    version = _version(pk)
    if version.previous_id is None:
        messages.error(request, rules.MSG_NO_PREVIOUS)
        return redirect("forms_cms:control_list", pk=version.pk)
    done = request.method == "POST"
    report = rules.controls_carry_over(version=version, acting_user=request.user, dry_run=not done)
    if done:
        copied = counted(
            len(report.copied), "contrôle ou agrégat repris", "contrôles ou agrégats repris"
        )
        messages.success(
            request,
            f"{copied} de la version {report.previous.number} ; {len(report.refused)} non repris.",
        )
    return render(
        request,
        "forms_cms/controls/carry_over.html",
        {"version": version, "report": report, "done": done},
    )
