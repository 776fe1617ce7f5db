from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts.models import Role
from accounts.permissions import role_required
from workflow.forms import CampaignOpenForm
from workflow.models import Campaign
from workflow.services import campaign_open


@role_required(Role.GESTIONNAIRE, Role.ORGANISME, Role.PARTENAIRE, Role.EDITEUR)
def campaign_list(request):
    campaigns = Campaign.objects.prefetch_related("document_types").select_related("opened_by")
    return render(request, "workflow/campaign_list.html", {"campaigns": campaigns})


@role_required(Role.GESTIONNAIRE)
def campaign_create(request):
    form = CampaignOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_open(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request,
                f"{campaign} ouverte. Rédigez maintenant sa lettre : elle sera envoyée aux "
                "organismes le jour de l'ouverture.",
            )
            return redirect("workflow:campaign_detail", pk=campaign.pk)
    return render(request, "workflow/campaign_form.html", {"form": form})
