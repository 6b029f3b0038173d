# Combined programs (a discount and bonuses on one receipt) and the owner's choice of when a
# bonus's lifetime starts. Existing programs keep counting it from the end of the freeze (as
# they always did); new programs count it from the accrual (seed 004). Lots are not touched.

from django.db import migrations, models

CHOICES = [("accrual", "from accrual"), ("freeze_end", "from the end of the freeze")]


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0007_archived"),
    ]

    operations = [
        # Existing rows get today's behaviour ...
        migrations.AddField(
            model_name="program",
            name="lifetime_start",
            field=models.CharField(
                choices=CHOICES,
                default="freeze_end",
                help_text="Bonuses already accrued keep their burn dates when this changes.",
                max_length=16,
                verbose_name="bonus lifetime counts",
            ),
        ),
        # ... new ones count from the accrual.
        migrations.AlterField(
            model_name="program",
            name="lifetime_start",
            field=models.CharField(
                choices=CHOICES,
                default="accrual",
                help_text="Bonuses already accrued keep their burn dates when this changes.",
                max_length=16,
                verbose_name="bonus lifetime counts",
            ),
        ),
        migrations.AlterField(
            model_name="program",
            name="kind",
            field=models.CharField(
                choices=[
                    ("bonus", "bonus points"),
                    ("accumulative_discount", "accumulative discount"),
                    ("fixed_discount", "fixed discount"),
                    ("combined", "combined: discount and bonuses"),
                ],
                default="bonus",
                max_length=32,
                verbose_name="kind",
            ),
        ),
    ]
