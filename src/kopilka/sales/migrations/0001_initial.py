"""The till's models, moved here from the POS API's app: the models only. Their tables keep the
names pos.0001-0004 gave them, so no row moves."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('catalog', '0001_initial'),
        ('customers', '0006_customer_registered_at'),
        ('merchants', '0005_audit_action_choices'),
        ('pos', '0005_ratecounter_moved_to_limits'),
        ('programs', '0008_combined_programs_lifetime_start'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='Receipt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('sale', 'sale'), ('refund', 'refund')], default='sale', max_length=8, verbose_name='kind')),
                ('status', models.CharField(choices=[('confirmed', 'confirmed'), ('held', 'bonuses held, awaiting capture'), ('voided', 'voided')], default='confirmed', max_length=12, verbose_name='status')),
                ('channel', models.CharField(choices=[('pos', 'till'), ('online', 'online')], default='pos', max_length=8, verbose_name='channel')),
                ('external_number', models.CharField(max_length=64, verbose_name='receipt number')),
                ('occurred_at', models.DateTimeField(verbose_name='occurred at')),
                ('offline', models.BooleanField(default=False, verbose_name='sent after the fact (offline)')),
                ('subtotal', models.BigIntegerField(default=0, verbose_name='purchase sum')),
                ('discount', models.BigIntegerField(default=0, verbose_name='discount')),
                ('bonus_spent', models.BigIntegerField(default=0, verbose_name='paid with bonuses')),
                ('to_pay', models.BigIntegerField(default=0, verbose_name='paid with money')),
                ('accrued', models.BigIntegerField(default=0, verbose_name='bonuses accrued')),
                ('campaign_bonus', models.BigIntegerField(default=0, verbose_name='campaign bonus')),
                ('accrual_available_from', models.DateTimeField(blank=True, null=True)),
                ('accrual_expires_at', models.DateTimeField(blank=True, null=True)),
                ('clawed_back', models.BigIntegerField(default=0, verbose_name='bonuses clawed back')),
                ('clawback_shortfall', models.BigIntegerField(default=0, verbose_name='clawback not covered by balance')),
                ('returned', models.BigIntegerField(default=0, verbose_name='spent bonuses returned')),
                ('payments', models.JSONField(blank=True, default=list, verbose_name='payments')),
                ('reasons', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('customer', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='customers.customer')),
                ('merchant', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='merchants.merchant')),
                ('program', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='programs.program')),
                ('refund_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='refunds', to='sales.receipt')),
                ('register', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.register')),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.store')),
            ],
            options={
                'verbose_name': 'receipt',
                'verbose_name_plural': 'receipts',
                'db_table': 'pos_receipt',
            },
        ),
        migrations.CreateModel(
            name='ReceiptLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line_no', models.PositiveIntegerField(verbose_name='line')),
                ('sku', models.CharField(max_length=64, verbose_name='SKU')),
                ('name', models.CharField(blank=True, max_length=300, verbose_name='name')),
                ('qty', models.DecimalField(decimal_places=3, max_digits=14, verbose_name='quantity')),
                ('unit_price', models.BigIntegerField(verbose_name='unit price')),
                ('pos_discount', models.BigIntegerField(default=0, verbose_name='till discount')),
                ('amount', models.BigIntegerField(verbose_name='amount')),
                ('discount', models.BigIntegerField(default=0, verbose_name='discount')),
                ('bonus_spent', models.BigIntegerField(default=0, verbose_name='paid with bonuses')),
                ('accrued', models.BigIntegerField(default=0, verbose_name='bonuses accrued')),
                ('no_accrual', models.BooleanField(default=False)),
                ('no_discount', models.BooleanField(default=False)),
                ('no_bonus_payment', models.BooleanField(default=False)),
                ('reasons', models.JSONField(blank=True, default=list)),
                ('product', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.product')),
                ('receipt', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='sales.receipt')),
                ('refunds_line', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='refund_lines', to='sales.receiptline')),
            ],
            options={
                'verbose_name': 'receipt line',
                'verbose_name_plural': 'receipt lines',
                'db_table': 'pos_receiptline',
            },
        ),
        migrations.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=128)),
                ('operation', models.CharField(max_length=32)),
                ('request_hash', models.CharField(max_length=64)),
                ('response_status', models.PositiveSmallIntegerField(default=0)),
                ('response_body', models.JSONField(default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('register', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='merchants.register')),
            ],
            options={
                'db_table': 'pos_idempotencyrecord',
                'constraints': [models.UniqueConstraint(fields=('register', 'key'), name='idempotency_key_unique')],
            },
        ),
        migrations.CreateModel(
            name='OneTimeCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('confirm', 'confirm registration')], default='confirm', max_length=16)),
                ('channel', models.CharField(max_length=16)),
                ('salt', models.CharField(max_length=32)),
                ('code_hash', models.CharField(max_length=64)),
                ('attempts_left', models.PositiveSmallIntegerField()),
                ('expires_at', models.DateTimeField()),
                ('created_at', models.DateTimeField()),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.customer')),
                ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='merchants.merchant')),
            ],
            options={
                'db_table': 'pos_onetimecode',
                'constraints': [models.UniqueConstraint(fields=('customer', 'purpose'), name='one_time_code_per_customer')],
            },
        ),
        migrations.AddIndex(
            model_name='receipt',
            index=models.Index(fields=['merchant', 'occurred_at'], name='pos_receipt_merchan_198e1f_idx'),
        ),
        migrations.AddIndex(
            model_name='receipt',
            index=models.Index(fields=['customer', 'occurred_at'], name='pos_receipt_custome_72910a_idx'),
        ),
        migrations.AddConstraint(
            model_name='receipt',
            constraint=models.UniqueConstraint(fields=('register', 'kind', 'external_number'), name='receipt_number_unique'),
        ),
        migrations.AddConstraint(
            model_name='receipt',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'sale'), ('refund_of__isnull', True)), models.Q(('kind', 'refund'), ('refund_of__isnull', False)), _connector='OR'), name='receipt_refund_has_origin'),
        ),
        migrations.AddConstraint(
            model_name='receiptline',
            constraint=models.UniqueConstraint(fields=('receipt', 'line_no'), name='receipt_line_unique'),
        ),
        migrations.AddConstraint(
            model_name='receiptline',
            constraint=models.CheckConstraint(condition=models.Q(('qty__gt', 0)), name='receipt_line_qty_positive'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
