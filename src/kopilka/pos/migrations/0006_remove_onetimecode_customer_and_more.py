"""Receipts, their lines, idempotency records and one-time codes now belong to the sales app
(sales.0001): forgotten here, their tables kept as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('pos', '0005_ratecounter_moved_to_limits'),
    ]

    state_operations = [
        migrations.RemoveField(
            model_name='onetimecode',
            name='customer',
        ),
        migrations.RemoveField(
            model_name='onetimecode',
            name='merchant',
        ),
        migrations.RemoveField(
            model_name='receipt',
            name='customer',
        ),
        migrations.RemoveField(
            model_name='receipt',
            name='merchant',
        ),
        migrations.RemoveField(
            model_name='receipt',
            name='program',
        ),
        migrations.RemoveField(
            model_name='receipt',
            name='refund_of',
        ),
        migrations.RemoveField(
            model_name='receipt',
            name='register',
        ),
        migrations.RemoveField(
            model_name='receipt',
            name='store',
        ),
        migrations.RemoveField(
            model_name='receiptline',
            name='receipt',
        ),
        migrations.RemoveField(
            model_name='receiptline',
            name='product',
        ),
        migrations.RemoveField(
            model_name='receiptline',
            name='refunds_line',
        ),
        migrations.DeleteModel(
            name='IdempotencyRecord',
        ),
        migrations.DeleteModel(
            name='OneTimeCode',
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
