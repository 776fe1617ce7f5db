from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "Campagnes et dossiers"

    def ready(self) -> None:
        from forms_cms.signals import version_published, version_rules_changed
        from organisms.signals import demo_loaded
        from tenants.signals import platform_prepared
        from workflow import receivers
        from workflow.signals import dossier_step_changed

        dossier_step_changed.connect(receivers.notify_step_change, dispatch_uid="wf-notify")
        version_rules_changed.connect(receivers.refresh_derived, dispatch_uid="wf-derived")
        version_published.connect(receivers.trial_dossiers_drop, dispatch_uid="wf-trials")
        platform_prepared.connect(receivers.platform_seed, dispatch_uid="wf-platform")
        demo_loaded.connect(receivers.demo_campaign, dispatch_uid="wf-demo")
