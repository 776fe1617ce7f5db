"""The gestionnaire's page of a form version's carry-over rules (reprise à l'ouverture d'un
dossier) and variance thresholds (écarts avec N-1)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from forms_cms.carryover import (
    FIELD_NAME,
    MAX_MAPPING_BYTES,
    REGISTRY_SOURCES,
    MappingRefused,
    Origin,
    Rule,
    mapping_csv,
    mapping_parse,
    version_rules,
    version_settings,
)
from forms_cms.selectors import form_versions, previous_exercise_fields
from forms_cms.services.carryover import (
    carry_over_rule_delete,
    carry_over_rule_set,
    carry_over_rules_replace,
    carry_over_rules_reset,
    variance_thresholds_set,
)

MSG_NO_FILE = "Choisissez le fichier (CSV ou Excel) des règles de reprise."


class ThresholdsForm(forms.Form):
    variance_percent = forms.DecimalField(
        label="Écart signalé au-delà de (%)",
        min_value=0,
        max_digits=7,
        decimal_places=2,
        localize=True,
        help_text="Ex. 50 : une valeur qui s'écarte de plus de 50 % de celle transmise l'an "
        "dernier est signalée (exactement 50 % ne l'est pas).",
    )
    variance_minimum = forms.DecimalField(
        label="Écart minimal signalé (€)",
        min_value=0,
        max_digits=18,
        decimal_places=2,
        localize=True,
        help_text="Un écart plus petit que ce montant n'est jamais signalé (ex. 1 000).",
    )


class RuleForm(forms.Form):
    target = forms.CharField(label="Champ rempli", max_length=255)
    origin = forms.ChoiceField(label="Repris", choices=Origin.choices, widget=forms.RadioSelect)
    source = forms.CharField(
        label="Repris de",
        max_length=255,
        help_text="Exercice précédent : le nom du champ de l'an dernier (ex. ACT_N). "
        "Répertoire : " + ", ".join(REGISTRY_SOURCES) + ".",
    )

    def clean(self):
        data = super().clean()
        source = (data.get("source") or "").strip()
        if data.get("origin") == Origin.PREVIOUS and source and not FIELD_NAME.match(source):
            self.add_error("source", "Un nom de champ : lettres, chiffres, « _ » et « . ».")
        if data.get("origin") == Origin.REGISTRY and source not in REGISTRY_SOURCES:
            self.add_error(
                "source",
                "Donnée du répertoire inconnue : choisissez parmi "
                + ", ".join(REGISTRY_SOURCES)
                + ".",
            )
        return data


class MappingUploadForm(forms.Form):
    file = forms.FileField(
        label="Fichier des règles (CSV ou Excel, deux colonnes)",
        help_text="Une ligne par champ : champ rempli ; champ repris de l'exercice précédent, "
        "ou répertoire:siren… Le fichier remplace toutes les règles de la version.",
    )


def _version(pk):
    return get_object_or_404(form_versions(), pk=pk)


@role_required(Role.GESTIONNAIRE)
@require_http_methods(["GET", "POST"])
def carry_over(request, pk):
    version = _version(pk)
    settings = version_settings(version)
    thresholds = ThresholdsForm(
        initial={
            "variance_percent": settings.variance_percent,
            "variance_minimum": settings.variance_minimum,
        }
    )
    rule_form, upload_form, refusals = RuleForm(), MappingUploadForm(), []
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "thresholds":
                thresholds = ThresholdsForm(request.POST)
                if thresholds.is_valid():
                    variance_thresholds_set(
                        version=version,
                        percent=thresholds.cleaned_data["variance_percent"],
                        minimum=thresholds.cleaned_data["variance_minimum"],
                        acting_user=request.user,
                    )
                    messages.success(request, "Seuils d'écart enregistrés.")
                    return redirect("forms_cms:carry_over", pk=version.pk)
            elif action == "add":
                rule_form = RuleForm(request.POST)
                if rule_form.is_valid():
                    data = rule_form.cleaned_data
                    carry_over_rule_set(
                        version=version,
                        rule=Rule(data["target"].strip(), data["origin"], data["source"].strip()),
                        acting_user=request.user,
                    )
                    messages.success(request, f"Règle enregistrée pour {data['target']}.")
                    return redirect("forms_cms:carry_over", pk=version.pk)
            elif action == "delete":
                target = request.POST.get("target", "")
                if carry_over_rule_delete(version=version, target=target, acting_user=request.user):
                    messages.success(request, f"Règle de {target} supprimée.")
                return redirect("forms_cms:carry_over", pk=version.pk)
            elif action == "reset":
                carry_over_rules_reset(version=version, acting_user=request.user)
                messages.success(request, "Les règles par défaut (par les noms) s'appliquent.")
                return redirect("forms_cms:carry_over", pk=version.pk)
            elif action == "upload":
                upload_form = MappingUploadForm(request.POST, request.FILES)
                if upload_form.is_valid():
                    upload = upload_form.cleaned_data["file"]
                    if upload.size > MAX_MAPPING_BYTES:  # before reading it whole
                        raise MappingRefused(
                            [f"Le fichier pèse plus de {MAX_MAPPING_BYTES // 2**20} Mo."]
                        )
                    rules = mapping_parse(
                        version,
                        upload.read(),
                        upload.name,
                        previous_fields=previous_exercise_fields(version),
                    )
                    count = carry_over_rules_replace(
                        version=version, rules=rules, acting_user=request.user
                    )
                    messages.success(
                        request, f"{counted(count, 'règle enregistrée', 'règles enregistrées')}."
                    )
                    return redirect("forms_cms:carry_over", pk=version.pk)
        except MappingRefused as exc:
            refusals = exc.errors
    rules = version_rules(version, settings)
    return render(
        request,
        "forms_cms/carry_over.html",
        {
            "version": version,
            "settings": settings,
            "rules": rules,
            "registry": [r for r in rules if r.origin == Origin.REGISTRY],
            "previous": [r for r in rules if r.origin == Origin.PREVIOUS],
            "thresholds": thresholds,
            "rule_form": rule_form,
            "upload_form": upload_form,
            "refusals": refusals,
            "registry_sources": REGISTRY_SOURCES,
        },
        status=400 if refusals else 200,
    )


@role_required(Role.GESTIONNAIRE)
def carry_over_csv(request, pk):
    version = _version(pk)
    response = HttpResponse(
        mapping_csv(version_rules(version)).encode("utf-8-sig"),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="reprise-{version.code}.csv"'
    return response
