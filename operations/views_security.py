"""Security supervision in the operator's space (public host only, operator staff only):
every platform's security events, filtered and paged, and the alert rules
(``operations.services_security``)."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_email
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from operations import services_security
from operations.models import SECURITY_PLATFORM_CHOICES, SecurityAlert, SecurityAlertRule
from operations.views import STAFF_ROLES
from tenants.models import SecurityEvent

PAGE_SIZE = 50
DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MSG_BAD_EMAIL = "« {email} » n'est pas une adresse électronique valide."


class SecurityEventFilterForm(forms.Form):
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Tous"), *SecurityEvent.Kind.choices]
    )
    plateforme = forms.ChoiceField(
        label="Plateforme", required=False, choices=[("", "Toutes"), *SECURITY_PLATFORM_CHOICES]
    )
    du = forms.DateTimeField(label="Depuis le", required=False, widget=DATETIME_LOCAL)
    au = forms.DateTimeField(label="Jusqu'au", required=False, widget=DATETIME_LOCAL)
    identifiant = forms.CharField(label="Identifiant", required=False, max_length=150)
    ip = forms.GenericIPAddressField(label="Adresse IP", required=False)

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["au"] < data["du"]:
            self.add_error("au", "La fin de la période doit suivre son début.")
        return data


class EmailListField(forms.CharField):
    """Addresses one per line or separated by commas or semicolons."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[str]:
        emails = [e.strip().lower() for e in re.split(r"[\s,;]+", value or "") if e.strip()]
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError(MSG_BAD_EMAIL.format(email=email), code="invalid") from None
        return list(dict.fromkeys(emails))


class SecurityRuleForm(forms.ModelForm):
    emails = EmailListField(
        label="Autres destinataires",
        required=False,
        help_text="Une adresse par ligne (ou séparées par des virgules).",
    )

    class Meta:
        model = SecurityAlertRule
        fields = list(services_security.RULE_FIELDS)


def _filtered(form: SecurityEventFilterForm):
    events = SecurityEvent.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["type"]:
            events = events.filter(kind=data["type"])
        if data["plateforme"]:
            events = events.filter(platform=data["plateforme"])
        if data["du"]:
            events = events.filter(occurred_at__gte=data["du"])
        if data["au"]:
            events = events.filter(occurred_at__lte=data["au"])
        if data["identifiant"]:
            events = events.filter(username__icontains=data["identifiant"].strip())
        if data["ip"]:
            events = events.filter(ip=data["ip"])
    elif form.is_bound:
        events = events.none()  # a wrong filter shows its message, not every event
    return events


# CGLLS, which the alerts reach, reads the events and the rules; the operator's staff manage
# the rules
READERS = (*STAFF_ROLES, Role.CGLLS)


@role_required(*READERS)
def security_events(request):
    form = SecurityEventFilterForm(request.GET or None)
    events = _filtered(form).order_by("-occurred_at", "-pk")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    labels = dict(SECURITY_PLATFORM_CHOICES)
    for event in page:
        event.platform_label = labels.get(event.platform, event.platform or "—")
    since = timezone.now() - dt.timedelta(days=1)
    kinds = dict(SecurityEvent.Kind.choices)
    return render(
        request,
        "operations/security/events.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "last_day": [
                (kinds.get(kind, kind), n)
                for kind, n in SecurityEvent.objects.filter(occurred_at__gte=since)
                .values_list("kind")
                .annotate(n=Count("id"))
                .order_by("kind")
            ],
        },
    )


@role_required(*READERS)
def security_rules(request):
    return render(
        request,
        "operations/security/rules.html",
        {
            "can_edit": request.user.role in STAFF_ROLES,
            "rules": SecurityAlertRule.objects.all(),
            "alerts": SecurityAlert.objects.select_related("rule")[:20],
        },
    )


@role_required(*STAFF_ROLES)
def security_rule_edit(request, pk: int | None = None):
    rule = get_object_or_404(SecurityAlertRule, pk=pk) if pk is not None else None
    form = SecurityRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services_security.security_rule_save(rule, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Règle d'alerte enregistrée.")
            return redirect("operations:security_rules")
    return render(request, "operations/security/rule_form.html", {"form": form, "rule": rule})


@require_POST
@role_required(*STAFF_ROLES)
def security_rule_delete(request, pk: int):
    rule = get_object_or_404(SecurityAlertRule, pk=pk)
    services_security.security_rule_delete(rule)
    messages.success(request, "Règle d'alerte supprimée.")
    return redirect("operations:security_rules")
