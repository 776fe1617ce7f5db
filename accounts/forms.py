from urllib.parse import urlsplit

from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import connection
from django.template import loader
from django.urls import reverse

from tenants.links import absolute_url
from tenants.tasks import queue_email


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "Identifiant ou mot de passe incorrect. Après plusieurs échecs, le compte est "
            "verrouillé pour un temps."
        ),
        "inactive": "Ce compte est désactivé : contactez le gestionnaire de la plateforme.",
    }


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the e-mail is sent by a background job."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # the link comes from the platform's address, not from the request's Host header
        url = absolute_url(
            reverse(
                "accounts:password_reset_confirm",
                kwargs={"uidb64": context["uid"], "token": context["token"]},
            )
        )
        context = {
            **context,
            "url": url,
            "domain": urlsplit(url).netloc,
            "platform": connection.tenant,
        }
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = (
            loader.render_to_string(html_email_template_name, context)
            if html_email_template_name
            else ""
        )
        queue_email(subject=subject, body=body, to=[to_email], html=html, from_email=from_email)
