"""The test platform (« plateforme de recette », CCTP 3.2.4): a restored copy of production
made safe to test on.

``recette_prepare`` runs on the copy, once restored (``backup`` → ``restore --database`` →
``recette_prepare``), in every schema (the public one and the five platforms), in one
transaction:

- people are pseudonymised: names, usernames and e-mail addresses of every account, the
  operator's correspondents and hotline callers, and wherever a name or an address was
  copied (journals, access logs, extractions, tronc commun authorisations);
- free text people wrote is replaced: exchange messages, hotline notes, private annotations,
  reminders, comments on transitions and prorogations; the texts kept (anomaly comments,
  reclassification requests) lose every known name, any e-mail address and phone number;
- attachments of the exchange spaces become a placeholder PDF;
- passwords become unusable and every API token is revoked; sessions, lock-outs, the shared
  cache and the job queue (which holds queued e-mails) are emptied;
- figures stay: organisms (legal persons, public registry), campaigns, forms, dossiers'
  figures and their history, reports. The dossiers' free text does not: in every text field
  (single fields and the text columns of lists) known names, e-mail addresses and phone
  numbers are replaced, and a field whose label names a person (signataire, responsable,
  directeur, répondant, contact…) gets a pseudonym — in the dossiers, their history, the
  values frozen at each step and sent to partners; the PDF and XML generated from those
  become the placeholder (generate them again on the copy);
- each platform gets a test organism for software editors, with an organisme account and a
  dossier of the current campaign (its password is printed once).

It refuses to run unless ``HARMONIA_ENVIRONMENT`` is ``recette``: it must never run on
production, and nothing is changed when it refuses.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import schema_context
from harmonia import environment
from wagtail.models import ModelLogEntry, PageLogEntry

from accounts.models import Role, User
from declarations.models import ApiToken, TroncCommunEvent, TroncCommunPairing
from exchanges.models import Attachment, Message
from extractions.models import Extraction
from forms_cms.fields import version_fields, version_tables
from forms_cms.models import DocumentType, Field, FormVersion
from forms_cms.selectors import current_version
from operations.models import (
    Anomaly,
    AnomalyEvent,
    Correspondent,
    HotlineContact,
    Reclassification,
)
from organisms.models import Family
from organisms.services.memberships import membership_bind
from organisms.services.platform_test import platform_test_organism_ensure
from partners.models import AccessLog, Transmission
from tenants.models import Platform
from workflow.actions import dossier_open
from workflow.models import (
    Campaign,
    Dossier,
    DossierExport,
    PrivateNote,
    Prorogation,
    PurgeLog,
    Reminder,
    StepChange,
    ValueChange,
)

PUBLIC = "public"
PSEUDO_DOMAIN = "recette.invalid"
TEST_USERNAME = "test-editeurs"

MSG_REFUSED = (
    "Refusé : recette_prepare ne s'exécute que sur une plateforme de recette "
    "(HARMONIA_ENVIRONMENT=recette) ; cet environnement est « {env} ». Rien n'a été modifié.\n"
    "Refused: recette_prepare runs only on a test platform (HARMONIA_ENVIRONMENT=recette); "
    "this environment is '{env}'. Nothing was changed."
)
MESSAGE_TAIL = " : texte remplacé sur la plateforme de recette."
NOTE_TEXT = "Texte remplacé sur la plateforme de recette."
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French phone numbers as people write them: 06 12 34 56 78, 06.12.34.56.78, +33 6 12 34 56 78
PHONE_RE = re.compile(r"(?<![\d+])(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")


# keys of Wagtail's journal data whose value is a person (organisms.services.memberships,
# declarations, extractions journal an account's username and e-mail under these)
PERSON_KEYS = frozenset(
    {"username", "user", "account", "email", "first_name", "last_name", "name", "by"}
)


# labels of form fields that hold a person's name (or a way to reach one): their whole value
# is replaced; not when the label is about the organism or a place
PERSON_LABEL = re.compile(
    r"\b(?:nom|prénom|personne|signataire|responsable|directeur|directrice|président|"
    r"présidente|répondant|répondante|interlocuteur|interlocutrice|correspondant|"
    r"correspondante|contact|courriel|e-mail|mail|téléphone|tél)\b",
    re.IGNORECASE,
)
NOT_PERSON_LABEL = re.compile(
    r"organisme|société|programme|commune|résidence|opération|établissement|groupe|prêteur",
    re.IGNORECASE,
)


class RecetteRefused(Exception):
    """recette_prepare was asked for outside a test platform (nothing changed)."""


@dataclass
class RecetteResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    test_accounts: dict[str, dict] = field(default_factory=dict)


@dataclass
class _Identities:
    """What identified people before, and what replaces it: exact values (usernames, which
    are often ordinary words such as « organisme ») and values replaced wherever they occur
    inside a text (e-mail addresses, full names)."""

    exact: dict[str, str] = field(default_factory=dict)
    contained: dict[str, str] = field(default_factory=dict)
    # values of the forms' person fields → their pseudonym (« Personne 3 »)
    named: dict[str, str] = field(default_factory=dict)

    def text(self, value: str, *, whole: bool = True) -> str:
        """``value`` without the identities it holds; ``whole``: also when the whole value
        is a username or a single name (not for a journal's values under other keys, where
        « organisme » is a role, not the demo's account)."""
        if whole and value in self.exact:
            return self.exact[value]
        for old, new in self.contained.items():
            if old in value:
                value = value.replace(old, new)
        value = EMAIL_RE.sub(self._address, value)
        return PHONE_RE.sub("[téléphone]", value)

    def person(self, value: str) -> str:
        """A pseudonym for a person named in a form's field: the account's when the value
        is a known name or address, else the same new one wherever the value recurs."""
        known = self.exact.get(value) or self.contained.get(value)
        if known:
            return known
        if value not in self.named:
            self.named[value] = f"Personne {len(self.named) + 1}"
        return self.named[value]

    def _address(self, match) -> str:
        """An e-mail address: its pseudonym, or a mark (an address already pseudonymised,
        ours, stays)."""
        address = match.group(0)
        if address.endswith(f".{PSEUDO_DOMAIN}") or address.endswith(f"@{PSEUDO_DOMAIN}"):
            return address
        return self.contained.get(address, "[adresse]")

    def walk(self, value, key: str | None = None):
        """``value`` (JSON: dicts, lists, strings…) with every identity replaced; a whole
        value is taken for a username only under a key that names a person."""
        if isinstance(value, str):
            return self.text(value, whole=key in PERSON_KEYS)
        if isinstance(value, list):
            return [self.walk(v, key) for v in value]
        if isinstance(value, dict):
            return {k: self.walk(v, k) for k, v in value.items()}
        return value


@dataclass
class _FreeText:
    """A form version's text fields: single ones and the text columns of its lists, each
    with whether its label names a person (whole value replaced)."""

    fields: dict[str, bool]
    columns: dict[str, dict[str, bool]]

    @classmethod
    def of(cls, version) -> _FreeText:
        def personal(info) -> bool:
            label = info.label or ""
            return bool(PERSON_LABEL.search(label)) and not NOT_PERSON_LABEL.search(label)

        text = Field.DataType.TEXT
        fields = {
            name: personal(info)
            for name, info in version_fields(version).items()
            if info.data_type == text and not info.computed
        }
        columns = {}
        for name, table in version_tables(version).items():
            found = {c.name: personal(c) for c in table.columns if c.data_type == text}
            if found:
                columns[name] = found
        return cls(fields, columns)

    def value(self, ids: _Identities, name: str, value):
        """``value`` of field (or list) ``name`` without the people it names."""
        if value.__class__ is list and name in self.columns:
            columns = self.columns[name]
            return [
                {k: self._text(ids, columns[k], x) if k in columns else x for k, x in row.items()}
                if isinstance(row, dict)
                else row
                for row in value
            ]
        if name in self.fields:
            return self._text(ids, self.fields[name], value)
        return value

    def values(self, ids: _Identities, values: dict | None) -> dict | None:
        if not values:
            return values
        return {name: self.value(ids, name, value) for name, value in values.items()}

    def computed_values(self, ids: _Identities, computed: dict | None) -> dict | None:
        """``computed`` with its texts cleared of people, whatever the field's display type
        (a formula may copy a text): a copied person's name gets its input's pseudonym."""
        if not computed:
            return computed
        return {
            name: (ids.named.get(value) or ids.text(value))
            if isinstance(value, str) and value.strip()
            else value
            for name, value in computed.items()
        }

    @staticmethod
    def _text(ids: _Identities, personal: bool, value):
        if not isinstance(value, str) or not value.strip():
            return value
        if personal:
            return ids.person(value)
        return ids.text(value)


def _dossier_texts(ids: _Identities, placeholder: bytes) -> dict[str, int]:
    """The dossiers' free text (see the module's docstring): each row written only when a
    text changed; the figures are left as they are."""
    texts: dict[int, _FreeText] = {}

    def of(version_id: int) -> _FreeText:
        if version_id not in texts:
            texts[version_id] = _FreeText.of(FormVersion.objects.get(pk=version_id))
        return texts[version_id]

    changed_dossiers = set()
    # trial dossiers too: a gestionnaire may have typed a real name into one
    dossiers = Dossier.all_objects.only("pk", "form_version_id", "values", "computed")
    for dossier in dossiers.iterator(chunk_size=50):
        text = of(dossier.form_version_id)
        new = text.values(ids, dossier.values)
        computed = text.computed_values(ids, dossier.computed)
        if (new, computed) != (dossier.values, dossier.computed):
            Dossier.objects.filter(pk=dossier.pk).update(values=new, computed=computed)
            changed_dossiers.add(dossier.pk)
    history = 0
    # the history of the text fields only (amounts are most of it), version by version
    for version_id, text in texts.items():
        names = [*text.fields, *text.columns]
        if not names:
            continue
        rows = ValueChange.objects.filter(
            dossier__form_version_id=version_id, field_name__in=names
        ).only("pk", "field_name", "old_value", "new_value")
        for change in rows.iterator(chunk_size=500):
            old = text.value(ids, change.field_name, change.old_value)
            new = text.value(ids, change.field_name, change.new_value)
            if (old, new) != (change.old_value, change.new_value):
                ValueChange.objects.filter(pk=change.pk).update(old_value=old, new_value=new)
                history += 1
    exports = 0
    for export in DossierExport.objects.select_related("dossier").only(
        "pk", "frozen_values", "frozen_computed", "content", "dossier__form_version_id"
    ):
        text = of(export.dossier.form_version_id)
        frozen = text.values(ids, export.frozen_values)
        frozen_computed = text.computed_values(ids, export.frozen_computed)
        touched = (frozen, frozen_computed) != (export.frozen_values, export.frozen_computed)
        if touched or export.dossier_id in changed_dossiers:
            DossierExport.objects.filter(pk=export.pk).update(
                frozen_values=frozen,
                frozen_computed=frozen_computed,
                **({"content": placeholder} if export.content is not None else {}),
            )
            exports += 1
    sent = 0
    for transmission in Transmission.objects.only("pk", "form_version_id", "values", "computed"):
        text = of(transmission.form_version_id)
        new = text.values(ids, transmission.values)
        computed = text.computed_values(ids, transmission.computed)
        if (new, computed) != (transmission.values, transmission.computed):
            Transmission.objects.filter(pk=transmission.pk).update(values=new, computed=computed)
            sent += 1
    return {
        "dossiers (texte libre)": len(changed_dossiers),
        "historique (texte libre)": history,
        "documents générés remplacés": exports,
        "transmissions (texte libre)": sent,
    }


def _placeholder_pdf() -> bytes:
    from weasyprint import HTML

    html = render_to_string("operations/recette/placeholder.html")
    return HTML(string=html).write_pdf()


def _users(schema: str, ids: _Identities) -> int:
    """Every account of the schema: a name, username and address made from its number; an
    unusable password."""
    # the editors' test account is ours (made by an earlier run): it keeps its name, so a
    # second run finds it again instead of binding a new one to the test organism
    users = list(User.objects.exclude(username=TEST_USERNAME).order_by("pk"))
    for user in users:
        username = f"{user.role or 'compte'}-{user.pk}"
        email = f"{username}@{schema}.{PSEUDO_DOMAIN}"
        first, last = "Personne", f"n° {user.pk}"
        if user.email:
            ids.contained[user.email] = email
            ids.contained[user.email.lower()] = email
        full = user.get_full_name()
        if user.first_name and user.last_name:
            ids.contained[full] = f"{first} {last}"
        for part in (user.username, user.first_name, user.last_name, full):
            if part:
                ids.exact.setdefault(part, username if part == user.username else last)
        user.username, user.email, user.first_name, user.last_name = username, email, first, last
        user.password = make_password(None)
    User.objects.bulk_update(
        users, ["username", "email", "first_name", "last_name", "password"], batch_size=500
    )
    return len(users)


def _public(ids: _Identities) -> dict[str, int]:
    correspondents = list(Correspondent.objects.all())
    for c in correspondents:
        if c.email:
            ids.contained[c.email] = f"correspondant-{c.pk}@{PSEUDO_DOMAIN}"
        if c.name:
            ids.contained[c.name] = f"Correspondant n° {c.pk}"
        c.name, c.email = f"Correspondant n° {c.pk}", f"correspondant-{c.pk}@{PSEUDO_DOMAIN}"
    Correspondent.objects.bulk_update(correspondents, ["name", "email"])
    contacts = list(HotlineContact.objects.all())
    for contact in contacts:
        if contact.caller_name:
            ids.contained[contact.caller_name] = f"Appelant n° {contact.pk}"
        contact.caller_name = f"Appelant n° {contact.pk}"
        contact.description = NOTE_TEXT
        contact.resolution = NOTE_TEXT if contact.resolution else ""
    HotlineContact.objects.bulk_update(contacts, ["caller_name", "description", "resolution"])
    return {"correspondants": len(correspondents), "contacts hotline": len(contacts)}


def _public_texts(ids: _Identities) -> None:
    """Texts kept on the public host: the anomalies' (what the test platform is for), with
    every identity taken out."""
    for pk, text in Anomaly.objects.values_list("pk", "short_description"):
        Anomaly.objects.filter(pk=pk).update(
            reporter=f"Rapporteur n° {pk}", short_description=ids.text(text)
        )
    for model, name in ((AnomalyEvent, "comment"), (Reclassification, "justification")):
        for pk, text in model.objects.exclude(**{name: ""}).values_list("pk", name):
            model.objects.filter(pk=pk).update(**{name: ids.text(text)})


def _platform_texts(ids: _Identities, placeholder: bytes) -> dict[str, int]:
    messages = Message.objects.update(
        body=Concat(Value("Message n° "), Cast("pk", CharField()), Value(MESSAGE_TAIL))
    )
    digest = hashlib.sha256(placeholder).hexdigest()
    attachments = 0
    for attachment in Attachment.objects.only("pk"):
        Attachment.objects.filter(pk=attachment.pk).update(
            filename=f"piece-jointe-{attachment.pk}.pdf",
            content_type="application/pdf",
            content=placeholder,
            size=len(placeholder),
            sha256=digest,
        )
        attachments += 1
    PrivateNote.objects.exclude(body="").update(body=NOTE_TEXT)
    StepChange.objects.exclude(comment="").update(comment=NOTE_TEXT)
    Prorogation.objects.exclude(comment="").update(comment=NOTE_TEXT)
    for prorogation in Prorogation.objects.exclude(decision_name=""):
        prorogation.decision_name = f"decision-{prorogation.pk}.pdf"
        prorogation.save(update_fields=["decision_name"])
    Reminder.objects.exclude(body="").update(body=NOTE_TEXT)
    PurgeLog.objects.exclude(run_by="").update(run_by="[compte]")
    # the username copied beside the account: the account's new one
    new_names = dict(User.objects.values_list("pk", "username"))
    for model, owner in ((AccessLog, "user_id"), (Extraction, "requested_by_id")):
        for pk, user_id in model.objects.values_list("pk", owner):
            name = new_names.get(user_id, f"compte-{pk}")
            model.objects.filter(pk=pk).update(username=name)
    for model in (TroncCommunPairing, TroncCommunEvent):
        for obj in model.objects.all():
            email = obj.account_email
            if email:
                obj.account_email = ids.contained.get(email, f"compte-{obj.pk}@{PSEUDO_DOMAIN}")
            if isinstance(obj, TroncCommunEvent):
                obj.detail = ids.text(obj.detail)
            model.objects.filter(pk=obj.pk).update(
                account_email=obj.account_email,
                **({"detail": obj.detail} if isinstance(obj, TroncCommunEvent) else {}),
            )
    tokens = ApiToken.objects.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    ApiToken.objects.update(key_hash="!")
    return {"messages": messages, "pièces jointes": attachments, "jetons révoqués": tokens}


def _journals(ids: _Identities) -> int:
    """Wagtail's journals (administrative actions, pages): labels and data copied names and
    addresses; an account's label is rebuilt from its new username."""
    user_type = ContentType.objects.get_for_model(User)
    new_names = dict(User.objects.values_list("pk", "username"))
    count = 0
    for model in (ModelLogEntry, PageLogEntry):
        for entry in model.objects.all().iterator(chunk_size=500):
            label, data = entry.label, entry.data
            if model is ModelLogEntry and entry.content_type_id == user_type.pk:
                username = (
                    new_names.get(int(entry.object_id)) if entry.object_id.isdigit() else None
                )
                label = username or "[compte]"
            else:
                label = ids.text(label)
            data = ids.walk(data)
            if label != entry.label or data != entry.data:
                model.objects.filter(pk=entry.pk).update(label=label, data=data)
                count += 1
    return count


def _transient(schema: str) -> None:
    """Sessions, lock-outs, editing sessions: they belong to production's people."""
    for label in (
        "sessions.Session",
        "axes.AccessAttempt",
        "axes.AccessFailureLog",
        "axes.AccessLog",
        "axes.AccessAttemptExpiration",
    ):
        apps.get_model(label).objects.all().delete()
    if schema != PUBLIC:
        apps.get_model("wagtailadmin", "EditingSession").objects.all().delete()


def _shared_transient() -> None:
    """The shared cache (pages and fragments of production) and the job queue (queued
    e-mails to real people, jobs of production's workers), both in the public schema."""
    tables = (
        [f"public.{settings.CACHE_TABLE}"]
        if "DatabaseCache" in str(settings.CACHES["default"]["BACKEND"])
        else []
    )
    tables += ["public.procrastinate_jobs", "public.procrastinate_periodic_defers"]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")  # noqa: S608 - names from code


def _test_organism(schema: str, password: str) -> dict:
    """The platform's test organism for editors, its organisme account and its dossier of
    the latest campaign (when a form version was uploaded for it)."""
    campaign = Campaign.objects.order_by("-exercise", "-pk").first()
    document, family = None, Family.choices[0][0]
    if campaign is not None:
        for document_type in DocumentType.objects.filter(campaigns=campaign).order_by("pk"):
            if current_version(document_type, campaign) is not None:
                document = document_type
                family = document_type.families[0] if document_type.families else family
                break
    organism = platform_test_organism_ensure(family=family, active=True)
    siren = organism.siren
    user = User.objects.filter(username=TEST_USERNAME).first()
    if user is None:
        user = User(username=TEST_USERNAME, role=Role.ORGANISME)
    user.email = f"{TEST_USERNAME}@{schema}.{PSEUDO_DOMAIN}"
    user.first_name, user.last_name = "Éditeurs", "Test"
    user.is_active = True
    user.set_password(password)
    user.save()
    membership_bind(user=user, organism=organism)
    dossier = None
    if document is not None:
        dossier = dossier_open(
            organism=organism, campaign=campaign, document_type=document, acting_user=user
        )
    return {
        "siren": siren,
        "username": TEST_USERNAME,
        "password": password,
        "dossier": dossier.pk if dossier else None,
        "document": document.code if document else None,
        "exercise": campaign.exercise if campaign and document else None,
    }


def _new_password() -> str:
    # the password rules ask for 12 characters and several character classes
    return f"Recette-{secrets.token_urlsafe(9)}-9a"


def recette_prepare(*, password: str | None = None) -> RecetteResult:
    """Make this restored copy a test platform (see the module's docstring)."""
    if environment.current() != environment.RECETTE:
        raise RecetteRefused(MSG_REFUSED.format(env=environment.current()))
    codes = list(Platform.objects.declaration_platforms().values_list("code", flat=True))
    result = RecetteResult()
    ids = _Identities()
    placeholder = _placeholder_pdf()
    with transaction.atomic():
        # every schema's people first: a name copied into another schema's journal is known
        for schema in [PUBLIC, *codes]:
            with schema_context(schema):
                result.counts[schema] = {"comptes": _users(schema, ids)}
        with schema_context(PUBLIC):
            result.counts[PUBLIC].update(_public(ids))
            _public_texts(ids)
            _transient(PUBLIC)
        for code in codes:
            with schema_context(code):
                result.counts[code].update(_platform_texts(ids, placeholder))
                result.counts[code].update(_dossier_texts(ids, placeholder))
                result.counts[code]["entrées de journal"] = _journals(ids)
                _transient(code)
        _shared_transient()
        for code in codes:
            with schema_context(code):
                result.test_accounts[code] = _test_organism(code, password or _new_password())
    connection.set_schema_to_public()
    return result
