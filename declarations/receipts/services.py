"""The organism's accusé de réception, e-mailed when its dossier is transmitted."""

from __future__ import annotations

from django.template import loader
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from declarations.receipts.selectors import Receipt
from organisms.services.memberships import current_platform
from partners.selectors import moment_codes, partners_receiving
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow.models import DossierExport


def _sent_receipt(change, dossier) -> Receipt:
    """The receipt of a transmission being recorded (inside its transaction): the dossier as
    it stands after it, and the partners the rules send it to at the step it reached — the
    same reading (:func:`partners.selectors.partners_receiving`) as the sending itself, whose
    rows another receiver of the same signal may not have written yet."""
    codes = moment_codes(
        from_step=change.from_step,
        from_substep=change.from_substep,
        to_step=change.to_step,
        to_substep=change.to_substep,
    )
    partners = [
        r.partner.name
        for r in partners_receiving(
            organism=dossier.organism, document_type=dossier.document_type, codes=codes
        )
        if r.now
    ]
    pdf = (
        DossierExport.objects.filter(step_change=change, kind=DossierExport.Kind.PDF)
        .defer("content", "frozen_values", "frozen_computed")
        .first()
    )
    return Receipt(
        change=change,
        dossier=dossier,
        version_number=dossier.form_version.number,
        step_label=dossier.step_label,
        partners=partners,
        pdf=pdf,
    )


def receipt_send(*, change, dossier) -> int:
    """E-mail the accusé de réception of a transmission (``change``) to every active user of
    the dossier's organism, one message each (addresses are not disclosed to each other);
    queued in the transmission's transaction, so sent only if it commits. Returns the number
    of messages queued."""
    recipients = (
        User.objects.filter(
            role=Role.ORGANISME, is_active=True, membership__organism_id=dossier.organism_id
        )
        .exclude(email="")
        .order_by("pk")
    )
    if not recipients:
        return 0
    receipt = _sent_receipt(change, dossier)
    if receipt.pdf is not None:
        link = reverse("declarations:snapshot", args=[dossier.pk, receipt.pdf.pk])
    else:
        link = reverse("declarations:dossier", args=[dossier.pk])
    context = {
        "receipt": receipt,
        "dossier": dossier,
        "platform": current_platform(),
        "at": timezone.localtime(change.changed_at),
        "pdf_url": absolute_url(link),
        "dossier_url": absolute_url(reverse("declarations:dossier", args=[dossier.pk])),
    }
    subject = " ".join(
        loader.render_to_string("declarations/email/receipt_subject.txt", context).split()
    )
    sent = 0
    for user in recipients:
        body = loader.render_to_string(
            "declarations/email/receipt.txt", {**context, "recipient": user}
        )
        queue_email(subject=subject, body=body, to=[user.email])
        sent += 1
    return sent
