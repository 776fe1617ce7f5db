"""Forms: document types, form versions (one per uploaded workbook), their fields and sheets.

A form version keeps everything derived from its workbook at upload, so nothing is re-read
later: the field catalogue, the sheet layouts, the compiled formulas (the engine's artifact),
the specification file and the XSD. Files are stored in the database (``VersionFile``) so that
a platform's backup and reversibility export hold them without a separate media store.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from harmonia.documents import DocumentField

from organisms.models import Family


class DocumentType(models.Model):
    """A kind of document a platform collects (ER Sociaux, QDIS OPH, enquête fédérale…).

    Each form version (uploaded Excel support) belongs to one document type."""

    code = models.CharField(
        "code",
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z][A-Z0-9_]*$",
                "Le code commence par une lettre majuscule et ne contient que des majuscules, "
                "des chiffres et des _.",
            )
        ],
    )
    label = models.CharField("libellé", max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    # who files it: the families that must, and whether the others may
    families = ArrayField(
        models.CharField(max_length=10, choices=Family.choices),
        verbose_name="familles tenues de le déposer",
        default=list,
        blank=True,
        help_text="Aucune cochée : tous les organismes de la plateforme.",
    )
    voluntary = models.BooleanField(
        "dépôt volontaire possible",
        default=False,
        help_text="Les organismes des autres familles peuvent aussi le déposer.",
    )

    class Meta:
        verbose_name = "type de document"
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    def must_file(self, organism) -> bool:
        """The organism is bound to file this document (its family is named, or none is)."""
        return not self.families or organism.family in self.families

    def may_file(self, organism) -> bool:
        """The organism is bound to, or may file it voluntarily."""
        return self.voluntary or self.must_file(organism)

    def filers(self, organisms):
        """Of ``organisms`` (a queryset), those bound to file this document."""
        return organisms.filter(family__in=self.families) if self.families else organisms

    @property
    def families_label(self) -> str:
        """« tous les organismes », or the families bound to file it, in words."""
        if not self.families:
            return "tous les organismes"
        names = dict(Family.choices)
        named = [f"« {names.get(code, code)} »" for code in self.families]
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " et " + named[-1]
        return (
            f"les organismes de la famille {listed}"
            if len(named) == 1
            else (f"les organismes des familles {listed}")
        )


class FormVersion(models.Model):
    """Version de formulaire: one uploaded Excel support, kept forever."""

    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="versions", verbose_name="document"
    )
    campaign = models.ForeignKey(
        "workflow.Campaign",
        on_delete=models.PROTECT,
        related_name="form_versions",
        verbose_name="campagne",
    )
    number = models.PositiveIntegerField("numéro de version")
    source_name = models.CharField("fichier déposé", max_length=255)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="par"
    )
    uploaded_at = models.DateTimeField("déposée le", auto_now_add=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # the change list against ``previous`` is kept apart (VersionChanges): every dossier read
    # joins its version, and the list of a rearranged ER (every cell moved) is ~1.4 MB of JSON
    stats = models.JSONField("mesures", default=dict)
    input_count = models.PositiveIntegerField("champs de saisie", default=0)
    computed_count = models.PositiveIntegerField("champs calculés", default=0)
    common_count = models.PositiveIntegerField("champs du tronc commun", default=0)
    fields_edited_at = models.DateTimeField("libellés modifiés le", null=True, blank=True)
    # moved by every write of the version's controls and aggregates (forms_cms.controls): keys
    # the per-process cache of its blocking checks, so every node sees an edit at once
    rules_changed_at = models.DateTimeField("règles modifiées le", null=True, blank=True)
    # a draft (brouillon) until published: seen by gestionnaires and editors only, never opened
    # by a dossier (forms_cms.selectors)
    published_at = models.DateTimeField("publiée le", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="publiée par",
    )

    class Meta:
        verbose_name = "version de formulaire"
        verbose_name_plural = "versions de formulaire"
        ordering = ["document_type__position", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "number"], name="form_version_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type.code} v{self.number}"

    @property
    def code(self) -> str:
        return f"{self.document_type.code}-v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    def file(self, kind: str) -> VersionFile:
        return self.files.get(kind=kind)

    @property
    def changes(self) -> dict:
        """The fields added, removed, retyped and moved and the formulas changed since
        ``previous`` (``{}`` for a first version); read from its own table, once."""
        try:
            return self.change_list.changes
        except VersionChanges.DoesNotExist:
            return {}


class VersionChanges(models.Model):
    """A version's change list against the version before, shown on the version pages."""

    version = models.OneToOneField(
        FormVersion, on_delete=models.CASCADE, related_name="change_list"
    )
    changes = models.JSONField("changements", default=dict)

    class Meta:
        verbose_name = "changements de version"
        verbose_name_plural = "changements de versions"

    def __str__(self) -> str:
        return f"{self.version}: changements"


class VersionFile(models.Model):
    """A file of a form version: the workbook, the compiled formulas, the spec file, the XSD."""

    class Kind(models.TextChoices):
        SOURCE = "source", "Support Excel"
        COMPILED = "compiled", "Formules compilées"
        SPECIFICATION = "specification", "Fichier de spécification"
        XSD = "xsd", "Schéma XML (XSD)"

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    content = models.BinaryField()
    size = models.PositiveIntegerField()

    class Meta:
        verbose_name = "fichier de version"
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="version_file_kind_unique"),
        ]

    def __str__(self) -> str:
        return self.filename


class Field(models.Model):
    """Champ: one defined name of the workbook, the field's identity everywhere."""

    class Kind(models.TextChoices):
        INPUT = "input", "de saisie"
        COMPUTED = "computed", "calculé"

    class DataType(models.TextChoices):
        AMOUNT = "amount", "montant"
        INTEGER = "integer", "entier"
        PERCENTAGE = "percentage", "pourcentage"
        DATE = "date", "date"
        TEXT = "text", "texte"
        CHOICE = "choice", "liste de choix"

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField("nom", max_length=255)
    sheet = models.CharField("feuille", max_length=100)
    cell = models.CharField("cellule", max_length=12)
    row = models.PositiveIntegerField()
    column = models.PositiveIntegerField()
    kind = models.CharField("nature", max_length=10, choices=Kind.choices)
    data_type = models.CharField("type", max_length=12, choices=DataType.choices)
    choices = models.JSONField("valeurs possibles", default=list, blank=True)
    number_format = models.CharField("format", max_length=100, blank=True)
    workbook_label = models.CharField("libellé du classeur", max_length=500, blank=True)
    label = models.CharField("libellé", max_length=500)
    required = models.BooleanField("obligatoire", default=False)
    common = models.BooleanField("tronc commun", default=False)
    formula = models.TextField("formule", blank=True)
    position = models.PositiveIntegerField(default=0)
    # a column of a multivalued table (an Excel Table): its name, "" for a single cell
    table = models.CharField("tableau", max_length=255, blank=True, default="")

    class Meta:
        verbose_name = "champ"
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="field_name_unique"),
        ]
        indexes = [models.Index(fields=["version", "sheet", "row", "column"])]

    def __str__(self) -> str:
        return self.name

    @property
    def label_edited(self) -> bool:
        return self.label != self.workbook_label


class SheetLayout(models.Model):
    """The grid of one sheet as extracted at upload, so the online form can look like it."""

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="sheets")
    position = models.PositiveSmallIntegerField()
    name = models.CharField("feuille", max_length=100)
    layout = DocumentField()

    class Meta:
        verbose_name = "feuille"
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="sheet_position_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Control(models.Model):
    """Contrôle métier: a rule checked on a dossier of one form version.

    A rule is one of two kinds, both written in Excel formula syntax over field names (the
    form's own engine compiles them; cell addresses are refused):

    - **comparison**: ``left`` ``operator`` ``right`` within ``tolerance`` (≥ 0). With the gap
      ``left − right``: ``=`` passes when |gap| ≤ tolerance, ``<>`` when |gap| > tolerance,
      ``<=`` when gap ≤ tolerance, ``>=`` when gap ≥ −tolerance, ``<`` when gap < tolerance,
      ``>`` when gap > −tolerance (the tolerance always leans towards passing; 0 is the plain
      comparison). Non-numeric sides (text, booleans) are compared as Excel does, without
      tolerance. Example: TOTAL_ACTIF = TOTAL_PASSIF ± 1 €.
    - **condition**: a formula that must give TRUE (or a non-zero number), e.g.
      ``=OR(PAS_CAPITAL>0,ISBLANK(ACT_IMMO))``.

    An error value on either side (#DIV/0!…) fails the rule. ``message`` is the French text
    shown on failure; placeholders ``{gauche}``, ``{droite}``, ``{ecart}``, ``{tolerance}``,
    ``{operateur}``, ``{valeur}`` (the condition's result) and ``{NOM_DU_CHAMP}`` (any field's
    value) are replaced by the dossier's values in French formats; empty = a default message.
    ``sheet`` groups the results; empty = the sheet of the first field the rule references.
    """

    class Kind(models.TextChoices):
        COMPARISON = "comparison", "Comparaison de deux membres"
        CONDITION = "condition", "Condition qui doit être VRAIE"

    class Operator(models.TextChoices):
        EQ = "=", "="
        NE = "<>", "<>"
        LT = "<", "<"
        LE = "<=", "<="
        GT = ">", ">"
        GE = ">=", ">="

    class Severity(models.TextChoices):
        BLOCKING = "blocking", "bloquant"
        WARNING = "warning", "avertissement"

    version = models.ForeignKey(
        FormVersion, on_delete=models.CASCADE, related_name="controls", verbose_name="version"
    )
    code = models.CharField(
        "code",
        max_length=20,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                "Le code ne contient que des lettres, des chiffres, des _ . ou - (ex. C001).",
            )
        ],
    )
    label = models.CharField("libellé", max_length=300)
    kind = models.CharField("nature", max_length=12, choices=Kind.choices, default=Kind.COMPARISON)
    left = models.TextField("membre de gauche", blank=True)
    operator = models.CharField(
        "opérateur", max_length=2, choices=Operator.choices, default=Operator.EQ
    )
    right = models.TextField("membre de droite", blank=True)
    tolerance = models.DecimalField("tolérance", max_digits=18, decimal_places=4, default=0)
    condition = models.TextField("condition", blank=True)
    severity = models.CharField(
        "gravité", max_length=10, choices=Severity.choices, default=Severity.BLOCKING
    )
    enabled = models.BooleanField("actif", default=True)
    message = models.TextField("message", blank=True)
    sheet = models.CharField("feuille", max_length=100, blank=True)
    position = models.PositiveIntegerField("ordre", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créé par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifié par",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "contrôle"
        ordering = ["version", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="control_code_unique"),
            models.CheckConstraint(
                condition=models.Q(tolerance__gte=0),
                name="control_tolerance_positive",
                violation_error_message="La tolérance est un nombre positif ou nul.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def formula(self) -> str:
        """The rule as one line of text (for lists and reports)."""
        if self.kind == self.Kind.CONDITION:
            return self.condition.lstrip("=")
        text = f"{self.left.lstrip('=')} {self.operator} {self.right.lstrip('=')}"
        if self.tolerance:
            # Decimal once read back; whatever number the service was given before that
            tolerance = Decimal(str(self.tolerance)).normalize()
            text += f" ± {str(tolerance).replace('.', ',')}"
        return text


class Aggregate(models.Model):
    """Agrégat clé: a named formula over field names shown in tabs on the verification page
    (e.g. "SF", situation financière; "AE", autofinancement), grouped by ``tab``."""

    class DataType(models.TextChoices):
        AMOUNT = "amount", "montant"
        INTEGER = "integer", "entier"
        PERCENTAGE = "percentage", "pourcentage"
        TEXT = "text", "texte"

    version = models.ForeignKey(
        FormVersion, on_delete=models.CASCADE, related_name="aggregates", verbose_name="version"
    )
    code = models.CharField(
        "code",
        max_length=20,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                "Le code ne contient que des lettres, des chiffres, des _ . ou - (ex. SF).",
            )
        ],
    )
    label = models.CharField("libellé", max_length=300)
    tab = models.CharField("onglet", max_length=60)
    formula = models.TextField("formule")
    data_type = models.CharField(
        "affichage", max_length=12, choices=DataType.choices, default=DataType.AMOUNT
    )
    position = models.PositiveIntegerField("ordre", default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifié par",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "agrégat"
        ordering = ["version", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="aggregate_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class SecondOpinion(models.Model):
    """The `formulas` package's recalculation of a version's workbook compared with our engine
    (``forms_cms.second_opinion``), made by a background job after the upload."""

    class Status(models.TextChoices):
        PENDING = "pending", "en attente"
        RUNNING = "running", "en cours"
        DONE = "done", "terminé"
        FAILED = "failed", "échec"

    version = models.OneToOneField(
        FormVersion, on_delete=models.CASCADE, related_name="second_opinion"
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    cells = models.PositiveIntegerField("cellules comparées", default=0)
    input_sets = models.PositiveSmallIntegerField("jeux de valeurs", default=0)
    unchecked = models.PositiveIntegerField("cellules non vérifiées", default=0)
    # [{cell, name, formula, ours, theirs, input_set, reason}], one per differing cell
    disagreements = models.JSONField("écarts", default=list)
    known = models.JSONField("écarts connus de formulas", default=list)
    duration_s = models.FloatField("durée (s)", null=True, blank=True)
    error = models.TextField("erreur", blank=True)
    queued_at = models.DateTimeField("demandée le", auto_now_add=True)
    finished_at = models.DateTimeField("terminée le", null=True, blank=True)

    class Meta:
        verbose_name = "second avis de calcul"
        verbose_name_plural = "seconds avis de calcul"

    def __str__(self) -> str:
        return f"{self.version} : {self.get_status_display()}"


class CarryOverRule(models.Model):
    """Reprise: a field of the version prefilled when a dossier opens, from the organisms'
    registry (``source`` is one of ``forms_cms.carryover.REGISTRY_SOURCES``) or from the last
    transmission of the previous exercise (``source`` is a field name of that dossier).

    A version without rules of its own (``CarryOverSettings.customised`` false) uses the
    default rules by name (``forms_cms.carryover.default_rules``)."""

    class Origin(models.TextChoices):
        REGISTRY = "registry", "répertoire des organismes"
        PREVIOUS = "previous", "exercice précédent"

    version = models.ForeignKey(
        FormVersion, on_delete=models.CASCADE, related_name="carry_over_rules"
    )
    target = models.CharField("champ rempli", max_length=255)
    origin = models.CharField("origine", max_length=10, choices=Origin.choices)
    source = models.CharField("repris de", max_length=255)

    class Meta:
        verbose_name = "règle de reprise"
        verbose_name_plural = "règles de reprise"
        ordering = ["version", "origin", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "target"], name="carry_over_rule_target_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} ← {self.source}"


class CarryOverSettings(models.Model):
    """A version's choices on carry-over and on the variance checks (écarts avec N-1)."""

    version = models.OneToOneField(
        FormVersion, on_delete=models.CASCADE, related_name="carry_over_settings"
    )
    # the version's own rules (CarryOverRule) replace the default rules by name
    customised = models.BooleanField("règles de reprise propres à la version", default=False)
    variance_percent = models.DecimalField(
        "écart signalé au-delà de (%)", max_digits=7, decimal_places=2, default=Decimal(50)
    )
    variance_minimum = models.DecimalField(
        "écart minimal signalé (€)", max_digits=18, decimal_places=2, default=Decimal(1000)
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="modifié par",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "réglage de reprise et d'écarts"
        verbose_name_plural = "réglages de reprise et d'écarts"

    def __str__(self) -> str:
        return f"{self.version} : ±{self.variance_percent} %, {self.variance_minimum} €"
