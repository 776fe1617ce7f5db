"""The workflow's receivers (connected in ``WorkflowConfig.ready``)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from forms_cms.models import DocumentType
from forms_cms.receivers import document_types_seed
from organisms.demo import DEMO_EXERCISE
from organisms.models import Organism
from tenants.services import gestionnaires_grant
from workflow.actions import dossiers_derived_refresh_job
from workflow.models import Campaign, DeadlineRule, Dossier, DossierExport, FiabilisationStep
from workflow.services.deadlines import approval_record, prorogation_record
from workflow.services.letters import letter_recipients
from workflow.services.lifecycle import DEFAULT_SUBSTEPS, notify_step_change

__all__ = [
    "demo_campaign",
    "notify_step_change",
    "platform_seed",
    "refresh_derived",
    "trial_dossiers_drop",
]


def refresh_derived(*, version, **kwargs) -> None:
    """A form version's controls changed (sent on commit): recount the failing blocking
    controls of its dossiers in the background (hundreds of dossiers may use it)."""
    dossiers_derived_refresh_job.defer(version_id=version.pk)


def trial_dossiers_drop(*, version, **kwargs) -> None:
    """``forms_cms.signals.version_published`` (inside the publication's transaction): the
    version's trial dossier goes — it tried a draft that no longer exists as such, and the
    campaign's real dossiers now open on the version."""
    trials = Dossier.all_objects.filter(trial=True, form_version=version)
    # its PDFs first: an export points at the step journal, which protects it
    DossierExport.objects.filter(dossier__in=trials).delete()
    trials.delete()


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the default sub-steps of step 4 (only while the
    platform has none: each platform's gestionnaires adapt them) and the gestionnaires' rights
    on the sub-steps (admin) and on the journalled campaigns and purges."""
    if spec and not FiabilisationStep.objects.exists():
        FiabilisationStep.objects.bulk_create(
            FiabilisationStep(code=code, label=label, position=i)
            for i, (code, label) in enumerate(DEFAULT_SUBSTEPS)
        )
    if spec and spec.deadlines and not DeadlineRule.objects.exists():
        document_types_seed(spec)  # idempotent: the rules name them
        deadline_rules_seed(spec.deadlines)
    gestionnaires_grant(
        "workflow",
        [
            "view_fiabilisationstep", "add_fiabilisationstep",
            "change_fiabilisationstep", "delete_fiabilisationstep",
            "view_campaign", "change_campaign", "view_purgelog",
        ],
    )  # fmt: skip


def deadline_rules_seed(rules) -> None:
    """The platform's default deadline rules (``PlatformSpec.deadlines``), for the document
    types it has."""
    documents = {d.code: d for d in DocumentType.objects.all()}
    DeadlineRule.objects.bulk_create(
        DeadlineRule(
            document_type=documents[code],
            family=family,
            accounting=accounting,
            kind=kind,
            day=day,
            days=days,
            capped=capped,
        )
        for code, family, accounting, kind, day, days, capped in rules
        if code in documents
    )


DEMO_LETTER = (
    "<p>Madame, Monsieur,</p>"
    "<p>La campagne de collecte de l'exercice {exercise} est ouverte sur {platform}. Chaque "
    "document est à transmettre au plus tard à la date limite qui s'affiche sur votre page "
    "d'accueil : elle dépend de votre famille et, pour les comptes, de la date de l'assemblée "
    "générale qui les a approuvés (à saisir sur la plateforme).</p>"
    "<ul><li>Saisissez en ligne ou importez le fichier XML de votre logiciel ;</li>"
    "<li>lancez la vérification, puis transmettez ;</li>"
    "<li>si votre assemblée générale est reportée, déposez la décision de prorogation dans "
    "l'espace d'échange du dossier.</li></ul>"
    "<p>Vos questions : l'espace d'échange de chaque dossier, ou l'assistance de la "
    "plateforme.</p><p>Le gestionnaire de la plateforme</p>"
)


def demo_campaign(*, platform, users, **kwargs) -> None:
    """``organisms.signals.demo_loaded`` on a platform: the demo's open campaign, collecting
    every document type, opened by the demo gestionnaire (once), its letter (sent at the
    opening) and, where rules give organisms their own deadlines, a campaign in motion."""
    if platform is None or Campaign.objects.filter(exercise=DEMO_EXERCISE).exists():
        return
    today = timezone.localdate()
    opening = today - datetime.timedelta(days=30)
    campaign = Campaign.objects.create(
        exercise=DEMO_EXERCISE,
        opening_date=opening,
        deadline=today + datetime.timedelta(days=90),
        opened_by=users["gestionnaire"],
        letter_subject=f"Ouverture de la campagne {DEMO_EXERCISE}",
        letter=DEMO_LETTER.format(exercise=DEMO_EXERCISE, platform=platform.name),
    )
    campaign.document_types.set(DocumentType.objects.all())
    # the letter went out on the opening day (the demo sends no e-mail)
    campaign.letter_recipients = len(letter_recipients(campaign))
    campaign.letter_sent_at = timezone.make_aware(
        datetime.datetime.combine(opening, datetime.time(7))
    )
    campaign.save(update_fields=["letter_recipients", "letter_sent_at"])
    if DeadlineRule.objects.exists():
        demo_deadlines(campaign, users["gestionnaire"], today)


def demo_deadlines(campaign, gestionnaire, today) -> None:
    """Approval dates entered for some organisms (a few late, some due soon, the others'
    dates still to be stated) and one prorogation, through the services."""
    days = datetime.timedelta
    approvals = []
    # a month after the general assembly (COOP, ESH: ER sociaux; EPL: ER SEM): late for the
    # first ones of each family, due within weeks for the next
    for family in ("COOP", "ESH", "EPL"):
        members = Organism.objects.filter(is_active=True, family=family).order_by("-pk")
        approvals += [(o, today - days(70 + i)) for i, o in enumerate(members[:3])]
        approvals += [(o, today - days(5 + i)) for i, o in enumerate(members[3:12])]
    # fifteen days after the approval (OPH in comptabilité publique): late, then due soon
    public_ophs = Organism.objects.filter(is_active=True, family="OPH", accounting="PUBLIQUE")
    approvals += [(o, today - days(30 + i)) for i, o in enumerate(public_ophs.order_by("-pk")[:4])]
    approvals += [(o, today - days(8)) for o in public_ophs.order_by("-pk")[4:12]]
    for organism, day in approvals:
        approval_record(
            organism=organism, exercise=campaign.exercise, approved_on=day, acting_user=gestionnaire
        )
    er = DocumentType.objects.filter(code="ER_SOCIAUX").first()
    # a late coopérative (the first above) whose general assembly was postponed
    late = Organism.objects.filter(is_active=True, family="COOP").order_by("-pk").first()
    if er is not None and late is not None:
        prorogation_record(
            organism=late,
            campaign=campaign,
            document_type=er,
            decided_on=today - days(3),
            new_deadline=today + days(45),
            acting_user=gestionnaire,
            comment="Assemblée générale reportée par décision du tribunal de commerce.",
        )
