"""`kopilka register-key issue|revoke REGISTER_ID`: the key is printed once and never again."""

from django.core.management.base import BaseCommand, CommandError

from kopilka.merchants import services
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import Register


class Command(BaseCommand):
    help = "Issue (prints the new key once) or revoke a register's API key."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "revoke"])
        parser.add_argument("register_id", type=int)

    def handle(self, *args, action, register_id, **options):
        register = Register.objects.select_related("merchant").filter(pk=register_id).first()
        if register is None:
            raise CommandError(f"No register with id {register_id}.")
        actor = Actor.system("cli")
        if action == "issue":
            key = services.register_key_issue(register=register, actor=actor)
            self.stderr.write(f"New API key for {register} (shown only now):")
            self.stdout.write(key)
        else:
            services.register_key_revoke(register=register, actor=actor)
            self.stdout.write(f"Key of {register} revoked.")
