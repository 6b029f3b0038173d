"""Campaign uses point at the receipts of the sales app (the same table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('programs', '0008_combined_programs_lifetime_start'),
        ('sales', '0001_initial'),
    ]

    state_operations = [
        migrations.AlterField(
            model_name='campaignuse',
            name='receipt',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='sales.receipt'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
