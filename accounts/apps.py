from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from harmonia.sessions import stamp_on_login

        from accounts.receivers import locked_out_record, login_failed_record

        user_logged_in.connect(stamp_on_login, dispatch_uid="harmonia-session-stamp")
        # security events (tenants.security_events), read by the operator's alert rules
        user_login_failed.connect(login_failed_record, dispatch_uid="harmonia-login-failed")
        user_locked_out.connect(locked_out_record, dispatch_uid="harmonia-locked-out")
