"""RateCounter moves here from the POS API's app: the model only, its table stays
`pos_ratecounter` (created by pos.0002), so no row moves."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("pos", "0004_fk_indexes_covered")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RateCounter",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=150)),
                        ("window_start", models.BigIntegerField()),
                        ("window_end", models.BigIntegerField(db_index=True)),
                        ("count", models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "pos_ratecounter",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("key", "window_start"), name="rate_counter_window"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
