"""A new form version during a campaign: the impact on the campaign's dossiers, then their
migration (the dossiers are the workflow's; the version page links here)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from forms_cms.selectors import published_versions
from workflow.services.migration import form_version_migrate, version_migration_impact


@role_required(Role.GESTIONNAIRE)
def version_migration(request, pk):
    """Impact of moving the campaign's dossiers to this version, then the migration."""
    version = get_object_or_404(published_versions(), pk=pk)  # never to a draft
    if request.method == "POST":
        impact = form_version_migrate(version=version, acting_user=request.user)
        messages.success(
            request,
            f"{counted(len(impact.dossiers), 'dossier passé', 'dossiers passés')} à la version "
            f"{version.number} et recalculés ; "
            f"{counted(impact.removed_values, 'valeur', 'valeurs')} de champs supprimés "
            "conservées dans l'historique.",
        )
        return redirect("forms_cms:version_detail", pk=version.pk)
    impact = version_migration_impact(version=version)
    return render(
        request, "workflow/version_migration.html", {"version": version, "impact": impact}
    )
