"""Jobs of the forms app, found by procrastinate's autodiscovery (``<app>.tasks``)."""

from __future__ import annotations

import logging

from django.utils import timezone

from forms_cms.models import SecondOpinion, VersionFile
from forms_cms.second_opinion import workbook_second_opinion
from forms_cms.services.runtime import compiled_form
from tenants.jobs import tenant_task

logger = logging.getLogger(__name__)

MSG_FAILED = (
    "La vérification par le second moteur de calcul (formulas) a échoué : {reason}. "
    "Le formulaire reste utilisable ; signalez-le à l'assistance en indiquant la version."
)


@tenant_task(name="forms_cms.version_second_opinion")
def version_second_opinion(*, version_id: int) -> None:
    """Recalculate the version's workbook with `formulas` and store the comparison with our
    engine (the version's stored compiled formulas: what dossiers actually run)."""
    opinions = SecondOpinion.objects.filter(version_id=version_id)
    opinion = opinions.select_related("version").first()
    if opinion is None or opinion.status == SecondOpinion.Status.DONE:
        return  # version gone meanwhile, or done by an earlier attempt
    opinions.update(status=SecondOpinion.Status.RUNNING, error="")
    try:
        content = bytes(
            VersionFile.objects.get(version_id=version_id, kind=VersionFile.Kind.SOURCE).content
        )
        result = workbook_second_opinion(content, engine_form=compiled_form(opinion.version))
    except Exception as exc:
        logger.exception("second opinion of form version %s failed", version_id)
        opinions.update(
            status=SecondOpinion.Status.FAILED,
            error=MSG_FAILED.format(reason=_reason(exc)),
            finished_at=timezone.now(),
        )
        return
    data = result.as_dict()
    opinions.update(
        status=SecondOpinion.Status.DONE,
        cells=result.cells,
        input_sets=result.input_sets,
        unchecked=result.unchecked,
        disagreements=data["disagreements"],
        known=data["known"],
        duration_s=result.duration_s,
        finished_at=timezone.now(),
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, MemoryError):
        return "mémoire insuffisante sur le serveur"
    return f"formulas n'a pas pu recalculer le classeur ({type(exc).__name__})"
