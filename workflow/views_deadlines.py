"""The gestionnaires' deadline rules: per document and family, how the deadline is computed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from harmonia.forms import errors_apply

from accounts.models import Role
from accounts.permissions import role_required
from workflow.models import DeadlineRule
from workflow.services.deadlines import RULE_FIELDS, deadline_rule_delete, deadline_rule_save


class DeadlineRuleForm(forms.ModelForm):
    class Meta:
        model = DeadlineRule
        fields = RULE_FIELDS


@role_required(Role.GESTIONNAIRE)
def deadline_rules(request, pk=None):
    """List, add, change and delete the platform's deadline rules."""
    instance = get_object_or_404(DeadlineRule, pk=pk) if pk else None
    if request.method == "POST" and request.POST.get("delete") and instance:
        deadline_rule_delete(rule=instance, acting_user=request.user)
        messages.success(request, "Règle supprimée : ce document suit la date de la campagne.")
        return redirect("workflow:deadline_rules")
    form = DeadlineRuleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            deadline_rule_save(
                values=form.cleaned_data,
                acting_user=request.user,
                rule=DeadlineRule.objects.get(pk=instance.pk) if instance else None,
            )
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, "Règle de date limite enregistrée.")
            return redirect("workflow:deadline_rules")
    rules = DeadlineRule.objects.select_related("document_type", "updated_by")
    return render(
        request,
        "workflow/deadline_rules.html",
        {"form": form, "instance": instance, "rules": rules},
    )
