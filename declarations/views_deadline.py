"""An organism's deadline for one document of one campaign: the date and the rule it follows,
the approval of the accounts it may need (the organism or its gestionnaire enters it), and the
prorogations a gestionnaire records from the decision filed in the exchange space."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from harmonia.forms import errors_apply

from accounts.models import Role
from accounts.permissions import role_required
from organisms.models import Organism
from workflow.deadlines import NEEDS_APPROVAL
from workflow.models import AccountsApproval, Campaign, Dossier, Prorogation, Reminder
from workflow.policy import acts_for_organism
from workflow.services import annotations
from workflow.services.deadlines import (
    approval_record,
    deadline_for,
    decision_choices,
    prorogation_record,
    rule_for,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ApprovalForm(forms.Form):
    approved_on = forms.DateField(
        label="Date de l'assemblée générale (ou du conseil) qui a approuvé les comptes",
        widget=DATE,
    )


class ProrogationForm(forms.Form):
    decided_on = forms.DateField(label="Date de la décision", widget=DATE)
    new_deadline = forms.DateField(label="Nouvelle date limite de transmission", widget=DATE)
    decision = forms.TypedChoiceField(
        label="Décision déposée dans l'espace d'échange", coerce=int, required=False
    )
    comment = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea)

    def __init__(self, *args, attachments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [("", "— Aucune pièce —")] + [
            (a.pk, f"{a.filename}{' (décision de prorogation)' if a.is_prorogation else ''}")
            for a in attachments
        ]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Nouvelle note",
        help_text=f"{annotations.NOTE_MAX_LENGTH} caractères au plus ; visible des seuls "
        "gestionnaires de la plateforme.",
        widget=forms.Textarea(attrs={"rows": 3}),
        strip=False,
        required=False,  # the service says why an empty note is refused
    )


def _annotate(request, form, **key) -> bool:
    """A gestionnaire's note or « à suivre » toggle; True when it was written."""
    try:
        if "note" in request.POST:
            if not form.is_valid():
                return False
            annotations.note_add(body=form.cleaned_data["body"], acting_user=request.user, **key)
            messages.success(request, "Note ajoutée aux annotations privées.")
        elif request.POST.get("follow_up") == "set":
            annotations.follow_up_set(acting_user=request.user, **key)
            messages.success(request, "Dossier marqué « à suivre ».")
        else:
            annotations.follow_up_unset(acting_user=request.user, **key)
            messages.success(request, "Marque « à suivre » retirée.")
    except ValidationError as exc:
        errors_apply(form, exc)
        return False
    return True


@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def deadline_page(request, campaign_pk, type_pk, organism_pk):
    if not acts_for_organism(request.user, organism_pk):
        raise PermissionDenied("Cette échéance n'est pas celle de votre organisme.")
    campaign = get_object_or_404(Campaign, pk=campaign_pk)
    document_type = get_object_or_404(campaign.document_types, pk=type_pk)
    organism = get_object_or_404(Organism, pk=organism_pk)
    dossier = (
        Dossier.objects.filter(organism=organism, campaign=campaign, document_type=document_type)
        .defer("values", "computed")
        .first()
    )
    gestionnaire = request.user.role == Role.GESTIONNAIRE
    attachments = decision_choices(dossier)
    approval = AccountsApproval.objects.filter(
        organism=organism, exercise=campaign.exercise
    ).first()
    # a correction starts from the date entered
    approval_form = ApprovalForm(
        prefix="approval", initial={"approved_on": approval.approved_on} if approval else None
    )
    prorogation_form = ProrogationForm(prefix="prorogation", attachments=attachments)
    annotating = annotations.may_annotate(request.user)
    note_form = NoteForm(prefix="note")
    if request.method == "POST":
        if "approval" in request.POST:
            approval_form = ApprovalForm(request.POST, prefix="approval")
            if approval_form.is_valid():
                try:
                    approval_record(
                        organism=organism,
                        exercise=campaign.exercise,
                        approved_on=approval_form.cleaned_data["approved_on"],
                        acting_user=request.user,
                    )
                except ValidationError as exc:
                    errors_apply(approval_form, exc)
                else:
                    messages.success(request, "Date d'approbation des comptes enregistrée.")
                    return redirect(request.path)
        elif "prorogation" in request.POST and gestionnaire:
            prorogation_form = ProrogationForm(
                request.POST, prefix="prorogation", attachments=attachments
            )
            if prorogation_form.is_valid():
                data = prorogation_form.cleaned_data
                decision = (
                    attachments.filter(pk=data["decision"]).first() if data["decision"] else None
                )
                try:
                    prorogation_record(
                        organism=organism,
                        campaign=campaign,
                        document_type=document_type,
                        decided_on=data["decided_on"],
                        new_deadline=data["new_deadline"],
                        decision=decision,
                        comment=data["comment"],
                        acting_user=request.user,
                    )
                except ValidationError as exc:
                    errors_apply(prorogation_form, exc)
                else:
                    messages.success(
                        request, "Prorogation enregistrée : la date limite est repoussée."
                    )
                    return redirect(request.path)
        elif "note" in request.POST or "follow_up" in request.POST:
            if not annotating:
                raise PermissionDenied(annotations.MSG_ONLY_GESTIONNAIRE)
            note_form = NoteForm(request.POST, prefix="note")
            key = {"organism": organism, "campaign": campaign, "document_type": document_type}
            if _annotate(request, note_form, **key):
                return redirect(f"{request.path}#annotations")
        else:
            raise PermissionDenied(
                "Seul un gestionnaire de la plateforme enregistre une prorogation."
            )
    rule = rule_for(list(document_type.deadline_rules.all()), organism)
    return render(
        request,
        "declarations/deadline.html",
        {
            "campaign": campaign,
            "document_type": document_type,
            "organism": organism,
            "dossier": dossier,
            "deadline": deadline_for(campaign, document_type, organism),
            "rule": rule,
            "needs_approval": rule is not None and rule.kind in NEEDS_APPROVAL,
            "approval": approval,
            "approval_form": approval_form,
            "prorogation_form": prorogation_form if gestionnaire else None,
            "prorogations": Prorogation.objects.filter(
                organism=organism, campaign=campaign, document_type=document_type
            ).select_related("recorded_by"),
            "required": document_type.must_file(organism),
            "reminders": Reminder.objects.filter(
                organism=organism, campaign=campaign, document_type=document_type
            )
            .select_related("sent_by")
            .defer("body"),
            # the gestionnaires' private annotations: never read for anyone else
            "annotating": annotating,
            "notes": annotations.notes_of(organism, campaign, document_type) if annotating else (),
            "follow_up": annotations.follow_up_of(organism, campaign, document_type)
            if annotating
            else None,
            "note_form": note_form if annotating else None,
        },
    )
