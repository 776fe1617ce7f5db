from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = "Déclarations"

    def ready(self) -> None:
        from declarations import receivers
        from declarations.pdf import receivers as pdf_receivers
        from declarations.receipts import receivers as receipt_receivers
        from tenants.signals import jobs_stalled, platform_prepared
        from workflow.signals import dossier_step_changed

        platform_prepared.connect(receivers.platform_seed, dispatch_uid="declarations-platform")
        dossier_step_changed.connect(
            pdf_receivers.queue_snapshot_pdfs, dispatch_uid="declarations-snapshot-pdf"
        )
        jobs_stalled.connect(
            pdf_receivers.tell_stalled_pdfs, dispatch_uid="declarations-pdf-stalled"
        )
        dossier_step_changed.connect(
            receipt_receivers.send_receipt, dispatch_uid="declarations-receipt"
        )
