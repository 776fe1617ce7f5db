"""The exchange space's pages: a dossier's thread, downloads, the gestionnaires' overview."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from exchanges.forms import MessageForm
from exchanges.models import Attachment
from exchanges.selectors import (
    EXCHANGE_ROLES,
    exchange_dossier,
    exchange_overview,
    last_read_at,
    thread_messages,
)
from exchanges.services import (
    MAX_FILES,
    MSG_TOO_MANY,
    MessageRefused,
    attachment_size_error,
    message_post,
    thread_mark_read,
)


def _dossier_for(request, pk):
    dossier = exchange_dossier(request.user, pk)
    if dossier is None:
        raise Http404("Dossier introuvable.")
    return dossier


def _read_uploads(form: MessageForm) -> tuple[list[tuple[str, bytes, str]], list[str]]:
    """Read the uploaded files, except those too large or too many (refused unread)."""
    uploads = form.uploads()
    if len(uploads) > MAX_FILES:
        return [], [MSG_TOO_MANY.format(limit=MAX_FILES, count=len(uploads))]
    files, errors = [], []
    for upload, kind in uploads:
        error = attachment_size_error(upload.name, upload.size)
        if error:
            errors.append(error)
        else:
            files.append((upload.name, upload.read(), kind))
    return files, errors


@require_http_methods(["GET", "POST"])
@role_required(*EXCHANGE_ROLES)
def thread(request, pk):
    """The thread, oldest first, and the form to write; opening it marks it read."""
    dossier = _dossier_for(request, pk)
    form = MessageForm()
    errors: list[str] = []
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            files, errors = _read_uploads(form)
            if not errors:
                try:
                    message_post(
                        dossier=dossier,
                        author=request.user,
                        body=form.cleaned_data["body"],
                        files=files,
                    )
                except MessageRefused as exc:
                    errors = exc.errors
                else:
                    messages.success(request, "Message envoyé.")
                    return redirect("exchanges:thread", pk=dossier.pk)
    seen_until = last_read_at(dossier, request.user)
    thread_list = list(thread_messages(dossier))
    for message in thread_list:
        message.is_new = message.author_id != request.user.pk and (
            seen_until is None or message.created_at > seen_until
        )
        message.from_gestionnaire = message.author.role == Role.GESTIONNAIRE
    thread_mark_read(dossier=dossier, user=request.user)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "exchanges/thread.html",
        {"dossier": dossier, "thread": thread_list, "form": form, "errors": errors},
        status=status,
    )


@require_GET
@role_required(*EXCHANGE_ROLES)
def download(request, pk, attachment_pk):
    dossier = _dossier_for(request, pk)
    attachment = Attachment.objects.filter(pk=attachment_pk, message__dossier=dossier).first()
    if attachment is None:
        raise Http404("Pièce jointe introuvable.")
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@role_required(Role.GESTIONNAIRE)
def overview(request):
    """The dossiers with messages, unread counts first to the eye, and the prorogations."""
    prorogation_only = request.GET.get("prorogation") == "1"
    unread_only = request.GET.get("non_lus") == "1"
    dossiers = exchange_overview(
        request.user, prorogation_only=prorogation_only, unread_only=unread_only
    )
    page = Paginator(dossiers, 50).get_page(request.GET.get("page"))
    query = "&".join(
        part for part, on in (("prorogation=1", prorogation_only), ("non_lus=1", unread_only)) if on
    )
    return render(
        request,
        "exchanges/overview.html",
        {
            "page": page,
            "prorogation_only": prorogation_only,
            "unread_only": unread_only,
            "query": query,
        },
    )
