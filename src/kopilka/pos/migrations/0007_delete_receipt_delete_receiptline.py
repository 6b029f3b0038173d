"""Receipts, their lines, idempotency records and one-time codes now belong to the sales app
(sales.0001): forgotten here, their tables kept as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0003_alter_entry_receipt_alter_hold_receipt'),
        ('pos', '0006_remove_onetimecode_customer_and_more'),
        ('programs', '0009_alter_campaignuse_receipt'),
    ]

    state_operations = [
        migrations.DeleteModel(
            name='Receipt',
        ),
        migrations.DeleteModel(
            name='ReceiptLine',
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
