"""Evolution requests register, form-integration workload, releases as the version tracking
document (test-platform delivery, anomalies linked), maintenance windows approved by CGLLS.

Existing maintenance windows were announced without an approval step: they stay approved."""

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
import operations.models
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def link_anomalies_to_releases(apps, schema_editor):
    """The free-text « version de livraison » becomes a link to the release: a number with no
    recorded release gets one (unpublished, dated the anomaly's production fix), so that no
    value is lost."""
    Anomaly = apps.get_model("operations", "Anomaly")
    Release = apps.get_model("operations", "Release")
    for anomaly in Anomaly.objects.exclude(release_version="").order_by("id"):
        number = anomaly.release_version.strip()
        release = Release.objects.filter(number=number).first()
        if release is None:
            release = Release.objects.create(
                number=number, date=anomaly.fixed_prod_on or anomaly.found_on
            )
        anomaly.release = release
        anomaly.save(update_fields=["release"])


class Migration(migrations.Migration):

    dependencies = [
        ('operations', '0004_correspondent_platforms_correspondent_user'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='anomaly',
            name='release',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='anomalies', to='operations.release', verbose_name='version de livraison'),
        ),
        migrations.RunPython(link_anomalies_to_releases, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='anomaly',
            name='release_version',
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='blocking_anomaly',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='maintenance_windows', to='operations.anomaly', verbose_name='anomalie bloquante corrigée'),
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='decided_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='décidée le'),
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='decided_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='decision_comment',
            field=models.TextField(blank=True, verbose_name='motif de la décision'),
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='features',
            field=models.TextField(blank=True, help_text='Périmètre précis : laissé vide, toute la plateforme est indisponible.', verbose_name='fonctionnalités concernées'),
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='requested_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='maintenancewindow',
            name='status',
            field=models.CharField(choices=[('requested', 'Demandée'), ('approved', 'Approuvée'), ('refused', 'Refusée')], default='approved', max_length=10, verbose_name='statut'),
        ),
        migrations.AlterField(
            model_name='maintenancewindow',
            name='status',
            field=models.CharField(choices=[('requested', 'Demandée'), ('approved', 'Approuvée'), ('refused', 'Refusée')], default='requested', max_length=10, verbose_name='statut'),
        ),
        migrations.AddField(
            model_name='release',
            name='test_on',
            field=models.DateField(blank=True, null=True, verbose_name='livrée sur la plateforme de tests le'),
        ),
        migrations.AlterField(
            model_name='release',
            name='date',
            field=models.DateField(verbose_name='mise en production le'),
        ),
        migrations.CreateModel(
            name='EvolutionRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(editable=False, max_length=20, unique=True, verbose_name='numéro')),
                ('description', models.TextField(validators=[operations.models.validate_request_description], verbose_name='description')),
                ('requested_on', models.DateField(verbose_name='demandée le')),
                ('requester', models.CharField(max_length=200, verbose_name='demandeur principal')),
                ('requester_kind', models.CharField(choices=[('organism', 'Organisme'), ('ministry', 'Ministère'), ('federation', 'Fédération'), ('partner', 'Partenaire'), ('cglls', "CGLLS (ou son assistant à maîtrise d'ouvrage)"), ('operator', 'Titulaire')], max_length=12, verbose_name='origine de la demande')),
                ('all_federations', models.BooleanField(default=False, help_text="Une demande d'une fédération vaut, sauf exception, pour toutes.", verbose_name='à mettre en œuvre pour toutes les fédérations')),
                ('platforms', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('dhup', 'Ministère (DHUP)'), ('oph', 'Fédération des OPH'), ('esh', 'Fédération des ESH'), ('coop', 'Fédération des coopératives HLM'), ('epl', 'Fédération des EPL')], max_length=10), default=list, size=None, verbose_name='plateformes concernées')),
                ('priority', models.CharField(blank=True, choices=[('high', 'Élevé'), ('medium', 'Moyen'), ('low', 'Faible')], max_length=10, verbose_name='niveau de priorité')),
                ('person_days', models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True, verbose_name='jours/homme proposés')),
                ('cost', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, verbose_name='coût global proposé (€ HT)')),
                ('delay', models.CharField(blank=True, max_length=100, verbose_name='délai de mise en œuvre')),
                ('status', models.CharField(choices=[('to_decide', 'À décider'), ('retained', 'Retenue'), ('abandoned', 'Abandonnée'), ('delivered', 'Réalisée')], default='to_decide', max_length=10, verbose_name='situation')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('release', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='evolution_requests', to='operations.release', verbose_name='version de livraison')),
            ],
            options={
                'verbose_name': "demande d'évolution",
                'verbose_name_plural': "demandes d'évolution",
                'ordering': ['-requested_on', '-number'],
            },
        ),
        migrations.CreateModel(
            name='FormWorkEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='date')),
                ('platform', models.CharField(choices=[('dhup', 'Ministère (DHUP)'), ('oph', 'Fédération des OPH'), ('esh', 'Fédération des ESH'), ('coop', 'Fédération des coopératives HLM'), ('epl', 'Fédération des EPL')], max_length=10, verbose_name='plateforme')),
                ('form_version', models.CharField(help_text='Par exemple : QDIS OPH 2025 v2.', max_length=120, verbose_name='formulaire et version')),
                ('person_days', models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0.1')), django.core.validators.MaxValueValidator(Decimal('5'))], verbose_name='temps passé (jours/homme)')),
                ('description', models.TextField(verbose_name='travaux réalisés')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': "temps d'intégration de formulaire",
                'ordering': ['-day', '-id'],
                'indexes': [models.Index(fields=['day'], name='operations__day_9aec38_idx')],
            },
        ),
    ]
