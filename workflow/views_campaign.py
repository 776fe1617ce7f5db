"""A campaign's page for its gestionnaires: its dates and documents, its letter (written in
the CMS, sent on the opening day), its automatic reminders' offsets; and the bulk reminder
sent from a selection of the workspace."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from harmonia.forms import errors_apply
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from organisms.models import Organism
from workflow.models import Campaign, Reminder
from workflow.services.campaigns import campaign_reminders_set
from workflow.services.letters import letter_html, letter_recipients
from workflow.services.reminders import default_message, manual_reminders_send


class OffsetsForm(forms.Form):
    reminder_offsets = forms.CharField(
        label="Relances automatiques, en jours par rapport à la date limite de chaque organisme",
        required=False,
        help_text="Négatif avant la date limite, positif après, séparés par des virgules "
        "(par défaut : -15, -3, 1, 15). Vide : aucune relance automatique.",
    )


@role_required(Role.GESTIONNAIRE)
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.prefetch_related("document_types"), pk=pk)
    initial = {"reminder_offsets": ", ".join(str(o) for o in campaign.reminder_offsets)}
    form = OffsetsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_reminders_set(
                campaign=campaign,
                text=form.cleaned_data["reminder_offsets"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            for error in exc.message_dict.get("reminder_offsets", exc.messages):
                form.add_error("reminder_offsets", error)
        else:
            messages.success(request, "Relances automatiques enregistrées.")
            return redirect("workflow:campaign_detail", pk=pk)
    return render(
        request,
        "workflow/campaign_detail.html",
        {
            "campaign": campaign,
            "form": form,
            "today": timezone.localdate(),
            "letter": letter_html(campaign),
            "letter_edit_url": reverse("campaign_letters:edit", args=[campaign.pk]),
            "letter_recipients": len(letter_recipients(campaign)),
            "reminders": Reminder.objects.filter(campaign=campaign)
            .select_related("organism", "document_type", "sent_by")
            .defer("body")[:50],
            "reminder_count": Reminder.objects.filter(campaign=campaign).count(),
        },
    )


class ReminderForm(forms.Form):
    subject = forms.CharField(label="Objet", max_length=200)
    message = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 8}))


@role_required(Role.GESTIONNAIRE)
def workspace_remind(request, pk):
    """Compose (then send) a reminder to the organisms ticked in the workspace."""
    if request.method != "POST":
        return redirect("workflow:workspace", pk=pk)
    campaign = get_object_or_404(Campaign, pk=pk)
    document_type = get_object_or_404(
        campaign.document_types, pk=request.POST.get("document_type") or 0
    )
    ids = [int(i) for i in request.POST.getlist("organism") if i.isdigit()]
    organisms = list(Organism.objects.filter(pk__in=ids).order_by("name"))
    back = request.POST.get("next", "")
    back = back if back.startswith("/campagnes/") else reverse("workflow:workspace", args=[pk])
    if not organisms:
        messages.error(request, "Cochez au moins un organisme à relancer.")
        return redirect(back)
    subject, message = default_message(campaign, document_type)
    form = ReminderForm(
        request.POST if request.POST.get("send") else None,
        initial={"subject": subject, "message": message},
    )
    if request.POST.get("send") and form.is_valid():
        try:
            sent, skipped = manual_reminders_send(
                campaign=campaign,
                document_type=document_type,
                organisms=organisms,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            if sent:
                addresses = sum(len(r.recipients) for r in sent)
                messages.success(
                    request,
                    f"{counted(len(sent), 'organisme relancé', 'organismes relancés')} "
                    f"({counted(addresses, 'destinataire', 'destinataires')}).",
                )
            for organism, why in skipped:
                messages.warning(request, f"{organism.name} : {why}.")
            return redirect(back)
    return render(
        request,
        "workflow/workspace_remind.html",
        {
            "campaign": campaign,
            "document_type": document_type,
            "organisms": organisms,
            "form": form,
            "back": back,
        },
    )
