"""Entries and holds point at the receipts of the sales app (the same table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0002_transfers'),
        ('sales', '0001_initial'),
    ]

    state_operations = [
        migrations.AlterField(
            model_name='entry',
            name='receipt',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='sales.receipt'),
        ),
        migrations.AlterField(
            model_name='hold',
            name='receipt',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sales.receipt'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
