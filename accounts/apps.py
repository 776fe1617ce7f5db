from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from harmonia.sessions import stamp_on_login

        user_logged_in.connect(stamp_on_login, dispatch_uid="harmonia-session-stamp")
