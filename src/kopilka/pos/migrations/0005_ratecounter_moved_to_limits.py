"""RateCounter now belongs to the limits app (limits.0001): forgotten here, table kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("pos", "0004_fk_indexes_covered"),
        ("limits", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RateCounter")],
            database_operations=[],
        ),
    ]
