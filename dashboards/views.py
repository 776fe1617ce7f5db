"""Each role's home page on a platform (``/``): where they stand and what to do next.

An app of its own because a home composes what several apps know — dossiers and their
steps (workflow), unread messages (exchanges), documents received (partners), the editors'
space (faq_wiki) — and so sits above all of them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from exchanges.selectors import exchange_overview
from faq_wiki.models import EditorsIndexPage
from forms_cms.models import DocumentType
from organisms.selectors import organisms_visible_to, user_organism, user_partner
from partners.models import AccessLog
from partners.selectors import transmissions_visible_to
from partners.services import access_log_record
from workflow.models import Campaign
from workflow.selectors import late_dossiers, offers_for, step_counts
from workflow.services.letters import letters_for_home

RECENT = 10


@login_required
def platform_home(request):
    user = request.user
    today = timezone.localdate()
    context = {"open_campaigns": Campaign.objects.open_on(today).prefetch_related("document_types")}
    if user.role == Role.ORGANISME:
        context.update(_organism_home(user))
    elif user.role == Role.GESTIONNAIRE:
        context.update(_gestionnaire_home(user, context["open_campaigns"]))
    elif user.role == Role.PARTENAIRE:
        context.update(_partner_home(request))
    elif user.role == Role.EDITEUR:
        context["document_types"] = DocumentType.objects.all()
        context["editors_page"] = EditorsIndexPage.objects.live().first()
    return render(request, "dashboards/home.html", context)


def _organism_home(user) -> dict:
    organism = user_organism(user)
    if organism is None:
        return {"organism": None}
    unread = {d.pk: d.unread for d in exchange_overview(user, unread_only=True)}
    rows = [(o, unread.get(o.dossier.pk, 0) if o.dossier else 0) for o in offers_for(organism)]
    return {"organism": organism, "rows": rows, "letters": letters_for_home(organism)}


def _gestionnaire_home(user, campaigns) -> dict:
    organisms = organisms_visible_to(user).filter(is_active=True)
    progress = []
    for campaign in campaigns:
        for document_type in campaign.document_types.all():
            bars = step_counts(campaign, document_type, organisms)
            top = max(count for _, _, count in bars) or 1
            url = reverse("workflow:workspace", args=[campaign.pk])
            progress.append(
                {
                    "campaign": campaign,
                    "document_type": document_type,
                    "bars": bars,
                    "top": top,
                    "url": f"{url}?document_type={document_type.pk}",
                }
            )
    late = []
    for campaign in Campaign.objects.filter(opening_date__lte=timezone.localdate())[:3]:
        late += late_dossiers(campaign, RECENT)
    unread = list(exchange_overview(user, unread_only=True)[:RECENT])
    return {"progress": progress, "late": late, "unread_threads": unread}


def _partner_home(request) -> dict:
    partner = user_partner(request.user)
    received = transmissions_visible_to(request.user).prefetch_related("snapshots")
    received = list(received.order_by("-sent_at")[:RECENT])
    # a partner's reading is journaled: the home lists documents, like the list page
    access_log_record(
        user=request.user,
        what=AccessLog.What.LIST,
        path=request.get_full_path(),
        ip=request.META.get("REMOTE_ADDR"),
    )
    return {"partner": partner, "received": received}
