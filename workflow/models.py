import json

import orjson
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.utils import timezone
from django_fsm import FSMField, transition
from harmonia.documents import DocumentField
from wagtail.fields import RichTextField

from forms_cms.models import DocumentType
from organisms.models import Accounting, Family, validate_closing
from workflow import deadlines


def default_reminder_offsets() -> list[int]:
    """15 and 3 days before the deadline, then 1 and 15 days after."""
    return [-15, -3, 1, 15]


class CampaignQuerySet(models.QuerySet):
    def open_on(self, day):
        return self.filter(opening_date__lte=day, deadline__gte=day)


class Campaign(models.Model):
    """Campagne de collecte: one exercise, the documents collected, its dates."""

    exercise = models.PositiveSmallIntegerField("exercice")
    document_types = models.ManyToManyField(
        DocumentType, verbose_name="documents collectés", related_name="campaigns"
    )
    opening_date = models.DateField("date d'ouverture")
    deadline = models.DateField("date limite de transmission")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="ouverte par",
    )
    opened_at = models.DateTimeField("ouverte le", auto_now_add=True)
    # automatic reminders, in days from each organism's deadline (-15: fifteen days before)
    reminder_offsets = ArrayField(
        models.SmallIntegerField(),
        verbose_name="relances automatiques (jours par rapport à la date limite)",
        default=default_reminder_offsets,
        blank=True,
    )
    # the campaign letter (written in the CMS), e-mailed on the opening date to the users of
    # the organisms bound to file, shown on their home page
    letter_subject = models.CharField("objet de la lettre de campagne", max_length=200, blank=True)
    letter = RichTextField("lettre de campagne", blank=True)
    letter_sent_at = models.DateTimeField("lettre envoyée le", null=True, blank=True)
    letter_recipients = models.PositiveIntegerField("destinataires de la lettre", default=0)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "campagne"
        ordering = ["-exercise", "-opening_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deadline__gte=models.F("opening_date")),
                name="campaign_deadline_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"Campagne {self.exercise}"

    @property
    def is_open(self) -> bool:
        return self.opening_date <= timezone.localdate() <= self.deadline


class Step(models.TextChoices):
    """Étapes du dossier. 1–3 belong to the organism; transmission ends step 3; in 4 the
    gestionnaire works through the platform's sub-steps and may hand the dossier back."""

    INITIALISED = "1", "1 — Initialisé"
    FILLING = "2", "2 — En cours de saisie"
    VALIDATED = "3", "3 — Validé par l'organisme"
    FIABILISATION = "4", "4 — Fiabilisation"
    HANDED_BACK = "4R", "4 — Main rendue à l'organisme"
    FINALISED = "5", "5 — Finalisé"
    ARCHIVED = "6", "6 — Archivé"


# steps in which the organism enters and imports values
ENTRY_STEPS = (Step.INITIALISED, Step.FILLING, Step.VALIDATED, Step.HANDED_BACK)


class FiabilisationStep(models.Model):
    """Sous-étape de l'étape 4, configured per platform (codes like 4.1 … 4.8)."""

    code = models.CharField("code", max_length=10, unique=True)
    label = models.CharField("libellé", max_length=200)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "sous-étape de fiabilisation"
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"


class DeclaredDossiers(models.Manager):
    """The declared dossiers, without the trial ones: the default manager, so that every
    list, count, deadline, reminder, report, extraction, API listing and partner reading
    of dossiers never meets a trial dossier. The dossier screens (``declarations.access``)
    and the write gate read ``Dossier.all_objects``; the policy decides who sees a trial."""

    def get_queryset(self):
        return super().get_queryset().filter(trial=False)


class AllDossiers(models.Manager):
    """Every dossier, trials included (``Dossier.all_objects``): the dossier screens, the
    write gate, the trial's own service."""


class Dossier(models.Model):
    """One organism's document for one campaign: its values on one form version.

    ``values`` holds what was entered (input fields, name → value as the formula engine
    represents it: numbers, dates as serial numbers, text, booleans); ``computed`` holds the
    computed fields, recomputed whenever inputs change. Every change is recorded as a
    :class:`ValueChange`."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.PROTECT, related_name="dossiers"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="dossiers")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="dossiers"
    )
    form_version = models.ForeignKey(
        "forms_cms.FormVersion",
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name="version du formulaire",
    )
    values = DocumentField("valeurs saisies", default=dict)
    computed = DocumentField("valeurs calculées", default=dict)
    # fields prefilled when the dossier opened and not edited since: name → the registry
    # ("registry") or the exercise they were carried over from (shown as such in the grid)
    prefilled = models.JSONField("valeurs reprises", default=dict, blank=True)
    revision = models.PositiveIntegerField("révision", default=0)
    # changed only through workflow.services.lifecycle.dossier_transition
    step = FSMField("étape", max_length=3, choices=Step.choices, default=Step.INITIALISED)
    substep = models.ForeignKey(
        FiabilisationStep,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name="sous-étape",
    )
    transmitted_at = models.DateTimeField("transmis le", null=True, blank=True)
    # blocking controls failing at the last save (for the gestionnaires' list and filters)
    failing_controls = models.PositiveIntegerField("contrôles bloquants en échec", default=0)
    # their detail, kept with the count: {"rules": the blocking checks' stamp, "ids": the
    # failing controls' ids}; a save evaluates again only the controls reading what it
    # changed and keeps the others' verdicts (forms_cms.verification.BlockingChecks)
    failing_checks = models.JSONField("contrôles bloquants en échec (détail)", default=dict)
    # a trial dossier (« dossier d'essai »): a draft form version tried by the platform's
    # gestionnaires and editors on the test organism; never transmitted nor counted
    trial = models.BooleanField("dossier d'essai", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeclaredDossiers()
    all_objects = AllDossiers()

    class Meta:
        verbose_name = "dossier"
        # related managers (organism.dossiers, campaign.dossiers…) leave trials out too
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["organism", "campaign", "document_type"],
                condition=models.Q(trial=False),
                name="dossier_unique",
            ),
            models.UniqueConstraint(
                fields=["form_version"],
                condition=models.Q(trial=True),
                name="dossier_trial_unique_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type.code} {self.campaign.exercise} — {self.organism}"

    # --- the lifecycle (the service checks who and what before firing these) ---------------
    @transition(field=step, source=[Step.INITIALISED, Step.FILLING], target=Step.FILLING)
    def start_filling(self):
        pass

    @transition(field=step, source=[Step.INITIALISED, Step.FILLING], target=Step.VALIDATED)
    def validate(self):
        pass

    @transition(field=step, source=Step.VALIDATED, target=Step.FILLING)
    def reopen(self):
        pass

    @transition(field=step, source=Step.VALIDATED, target=Step.FIABILISATION)
    def transmit(self):
        pass

    @transition(field=step, source=Step.FIABILISATION, target=Step.FIABILISATION)
    def move(self):
        pass

    @transition(field=step, source=Step.FIABILISATION, target=Step.HANDED_BACK)
    def hand_back(self):
        pass

    @transition(field=step, source=Step.HANDED_BACK, target=Step.FIABILISATION)
    def retransmit(self):
        pass

    @transition(field=step, source=Step.FIABILISATION, target=Step.FINALISED)
    def finalise(self):
        pass

    @transition(field=step, source=Step.FINALISED, target=Step.ARCHIVED)
    def archive(self):
        pass

    @property
    def step_label(self) -> str:
        label = self.get_step_display()
        if self.substep_id and self.step in (Step.FIABILISATION, Step.HANDED_BACK):
            label += f" — sous-étape {self.substep}"
        return label

    @property
    def document_stem(self) -> str:
        """The stem of the dossier's file names: ER_SOCIAUX-2024-412345678."""
        return f"{self.document_type.code}-{self.campaign.exercise}-{self.organism.siren}"

    @property
    def accepts_entries(self) -> bool:
        """The organism may enter and import values (steps 1–3, or handed back)."""
        return self.step in ENTRY_STEPS


class StepChange(models.Model):
    """Journal of the lifecycle: who moved the dossier, when, from where to where, and why."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="step_changes")
    transition = models.CharField("action", max_length=30)
    from_step = models.CharField("de l'étape", max_length=3, choices=Step.choices)
    from_substep = models.CharField("de la sous-étape", max_length=10, blank=True)
    to_step = models.CharField("à l'étape", max_length=3, choices=Step.choices)
    to_substep = models.CharField("à la sous-étape", max_length=10, blank=True)
    comment = models.TextField("commentaire", blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "changement d'étape"
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.transition}: {self.from_step} → {self.to_step}"


# past this many rows, history is written with PostgreSQL's COPY (4× faster than one INSERT
# of many rows: an XML import of a whole ER writes ~6,000)
COPY_FROM = 200


class ValueChangeQuerySet(models.QuerySet):
    def record(
        self, *, dossier, changes: list[tuple[str, object, object]], source: str, changed_by,
        note: str = "",
    ) -> None:  # fmt: skip
        """Write the history of ``changes`` (field name, old value, new value) made to
        ``dossier`` at once: ``bulk_create`` for a few (no signals, as before), COPY for the
        many rows of a whole import (without building a model instance per row).
        ``changed_at`` is the same instant for all."""
        if len(changes) < COPY_FROM or connection.vendor != "postgresql":
            self.bulk_create(
                self.model(dossier=dossier, field_name=name, old_value=old, new_value=new,
                           source=source, note=note, changed_by=changed_by)
                for name, old, new in changes
            )  # fmt: skip
            return
        now = timezone.now()
        user_id = changed_by.pk if changed_by is not None else None
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = "dossier_id, field_name, old_value, new_value, source, note, changed_by_id, "
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}changed_at) FROM STDIN") as copy,
        ):
            for name, old, new in changes:
                copy.write_row(
                    (dossier.pk, name, _json(old), _json(new), source, note, user_id, now)
                )


def _json(value) -> str | None:
    """What JSONField stores: SQL NULL for None (the field is nullable), the JSON text
    otherwise (orjson: a whole ER's ~18,000 old and new values in ~10 ms instead of ~60; the
    standard library for what orjson refuses, an integer beyond 64 bits)."""
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


class ValueChange(models.Model):
    """History of a dossier's values: who, when, which field, old → new, and from where."""

    class Source(models.TextChoices):
        MANUAL = "manual", "saisie"
        IMPORT = "import", "import XML"
        SYNCHRONISATION = "synchronisation", "rapatriement du tronc commun"
        VERSION_MIGRATION = "version_migration", "changement de version du formulaire"
        REGISTRY = "registry", "repris du répertoire"
        CARRY_OVER = "carry_over", "repris de l'exercice précédent"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="changes")
    field_name = models.CharField("champ", max_length=255)
    old_value = models.JSONField("ancienne valeur", null=True)
    new_value = models.JSONField("nouvelle valeur", null=True)
    source = models.CharField("origine", max_length=20, choices=Source.choices)
    note = models.CharField("précision", max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField("le", auto_now_add=True)

    objects = ValueChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "modification de valeur"
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["dossier", "field_name"])]

    def __str__(self) -> str:
        return f"{self.field_name}: {self.old_value!r} → {self.new_value!r}"


class DossierExport(models.Model):
    """A document generated from a dossier in the background (the PDF now, the XML later):
    its progress while a worker makes it, then its content to download."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        XML = "xml", "XML"

    class Status(models.TextChoices):
        PENDING = "pending", "en attente"
        RUNNING = "running", "en cours"
        DONE = "done", "prêt"
        FAILED = "failed", "échec"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField("type", max_length=10, choices=Kind.choices, default=Kind.PDF)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    content = models.BinaryField("contenu", null=True, blank=True, editable=False)
    filename = models.CharField("nom du fichier", max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="demandé par",
    )
    requested_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    error = models.TextField("erreur", blank=True)
    # a snapshot taken at a transmission: immutable, made from the values frozen then
    step_change = models.ForeignKey(
        StepChange, null=True, blank=True, on_delete=models.PROTECT, related_name="snapshots"
    )
    frozen_values = DocumentField(null=True, blank=True, editable=False)
    frozen_computed = DocumentField(null=True, blank=True, editable=False)
    frozen_step = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = "document généré"
        verbose_name_plural = "documents générés"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="dossier_export_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.dossier} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class PurgeLog(models.Model):
    """Journal of the retention purges: what was deleted, when, by whom (kept forever)."""

    run_at = models.DateTimeField("le", auto_now_add=True)
    run_by = models.CharField("par", max_length=150)
    oldest_kept = models.PositiveSmallIntegerField("plus ancien exercice conservé")
    dossiers = models.PositiveIntegerField("dossiers supprimés")
    exports = models.PositiveIntegerField("documents supprimés (PDF, XML)")
    attachments = models.PositiveIntegerField("pièces jointes supprimées", default=0)
    detail = models.JSONField("détail", default=list)

    class Meta:
        verbose_name = "purge de dossiers"
        ordering = ["-run_at"]

    def __str__(self) -> str:
        return f"Purge du {self.run_at:%d/%m/%Y} : {self.dossiers} dossiers"


class DeadlineRule(models.Model):
    """How the deadline of one document is computed for one family (and, for an OPH, one
    accounting regime); a document or family without a rule follows the campaign's date.
    The arithmetic is in :mod:`workflow.deadlines`."""

    document_type = models.ForeignKey(
        DocumentType,
        on_delete=models.CASCADE,
        related_name="deadline_rules",
        verbose_name="document",
    )
    family = models.CharField("famille", max_length=10, choices=Family.choices)
    accounting = models.CharField(
        "régime comptable (OPH)",
        max_length=10,
        choices=Accounting.choices,
        blank=True,
        help_text="Vide : tous les régimes.",
    )
    kind = models.CharField("règle", max_length=30, choices=deadlines.KIND_CHOICES)
    day = models.CharField(
        "date fixe (jj/mm)",
        max_length=5,
        blank=True,
        validators=[validate_closing],
        help_text="Pour une date fixe : le premier jj/mm après la clôture de l'exercice.",
    )
    days = models.PositiveSmallIntegerField(
        "nombre de jours", default=0, help_text="Pour « N jours après l'approbation »."
    )
    capped = models.BooleanField(
        "au plus tard à la date de la campagne",
        default=False,
        help_text="La date calculée ne dépasse jamais la date limite de la campagne.",
    )
    approval_field = models.CharField(
        "champ du formulaire portant la date d'approbation",
        max_length=255,
        blank=True,
        help_text="Nom du champ ; utilisé si la date n'a pas été saisie sur la plateforme.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "règle de date limite"
        verbose_name_plural = "règles de date limite"
        ordering = ["document_type__position", "family", "accounting"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "family", "accounting"],
                name="deadline_rule_unique",
                violation_error_message=(
                    "Une règle existe déjà pour ce document, cette famille et ce régime : "
                    "modifiez-la plutôt."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(accounting="") | models.Q(family="OPH"),
                name="deadline_rule_accounting_only_for_oph",
                violation_error_message="Le régime comptable ne se précise que pour les OPH.",
            ),
        ]

    def __str__(self) -> str:
        who = self.get_family_display()
        if self.accounting:
            who += f" ({self.get_accounting_display().lower()})"
        return f"{self.document_type.code} — {who} : {self.get_kind_display()}"

    def applies_to(self, organism) -> bool:
        return self.family == organism.family and (
            not self.accounting or self.accounting == organism.accounting
        )


class AccountsApproval(models.Model):
    """The day the general assembly (or board) approved an organism's accounts of one
    exercise, as the organism or its gestionnaire entered it."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.CASCADE, related_name="approvals"
    )
    exercise = models.PositiveSmallIntegerField("exercice")
    approved_on = models.DateField("approbation des comptes le")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField("saisie le", auto_now=True)

    class Meta:
        verbose_name = "approbation des comptes"
        verbose_name_plural = "approbations des comptes"
        constraints = [
            models.UniqueConstraint(fields=["organism", "exercise"], name="approval_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organism} — exercice {self.exercise} : {self.approved_on:%d/%m/%Y}"


class Prorogation(models.Model):
    """A gestionnaire's record of a prorogation decision: it moves one organism's deadline for
    one document of one campaign. Rows are never changed: the latest is in force, the others
    are the journal."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.PROTECT, related_name="prorogations"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="prorogations")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="prorogations"
    )
    decided_on = models.DateField("décision du")
    new_deadline = models.DateField("nouvelle date limite")
    previous_deadline = models.DateField("date limite précédente", null=True, blank=True)
    # the decision as filed in the dossier's exchange space (kept by name if it is purged)
    decision = models.ForeignKey(
        "exchanges.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="décision (espace d'échange)",
    )
    decision_name = models.CharField("document de la décision", max_length=255, blank=True)
    comment = models.TextField("commentaire", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    class Meta:
        verbose_name = "prorogation"
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "document_type", "organism"])]

    def __str__(self) -> str:
        return f"{self.organism} — {self.document_type.code} : {self.new_deadline:%d/%m/%Y}"


class Reminder(models.Model):
    """One reminder (« relance ») e-mailed to an organism's users about one document of one
    campaign: automatic (at one of the campaign's offsets from the organism's deadline) or
    sent by a gestionnaire. An automatic one is unique per offset and deadline, so that a
    restarted worker never sends it twice; a prorogation (a new deadline) starts afresh."""

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", "automatique"
        MANUAL = "manual", "par un gestionnaire"

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.CASCADE, related_name="reminders"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reminders")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField("type", max_length=10, choices=Kind.choices)
    offset = models.SmallIntegerField("jours par rapport à la date limite", null=True, blank=True)
    deadline = models.DateField("date limite rappelée", null=True, blank=True)
    subject = models.CharField("objet", max_length=255)
    body = models.TextField("message")
    recipients = ArrayField(models.EmailField(), verbose_name="destinataires", default=list)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField("envoyée le", auto_now_add=True)

    class Meta:
        verbose_name = "relance"
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "document_type", "organism"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organism", "campaign", "document_type", "offset", "deadline"],
                condition=models.Q(kind="automatic"),
                name="reminder_automatic_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Relance {self.get_kind_display()} — {self.organism} ({self.sent_at:%d/%m/%Y})"


class PrivateNote(models.Model):
    """A gestionnaires' private annotation on an organism's document of a campaign (« annotation
    privée »): only the platform's gestionnaires read it, never the organism nor partners."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.CASCADE, related_name="private_notes"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="private_notes")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="private_notes"
    )
    body = models.TextField("note")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "annotation privée"
        verbose_name_plural = "annotations privées"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "document_type", "organism"])]

    def __str__(self) -> str:
        return f"Note sur {self.organism} ({self.created_at:%d/%m/%Y})"


class FollowUp(models.Model):
    """The gestionnaires' « à suivre » flag on an organism's document of a campaign."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.CASCADE, related_name="follow_ups"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="follow_ups")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="follow_ups"
    )
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    flagged_at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "dossier à suivre"
        verbose_name_plural = "dossiers à suivre"
        constraints = [
            models.UniqueConstraint(
                fields=["organism", "campaign", "document_type"], name="follow_up_once"
            ),
        ]

    def __str__(self) -> str:
        return f"À suivre : {self.organism}"
