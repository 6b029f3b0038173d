"""Create one Django group per staff role. Their permissions are synced after each migrate
(kopilka.merchants.roles), since later models bring new permissions."""

from django.db import migrations

ROLES = ("owner", "admin", "marketer", "cashier", "auditor")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
