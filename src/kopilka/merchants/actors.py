"""Who performs a change: a staff user, a register, or the system itself (jobs, imports).

An actor is stored as a string ("user:5", "register:1", "system:demo"); `actor_labels` and
`actor_label` are the one way the back office shows it to people."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "register" | "system"
    id: int | None = None
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id is not None else f"{self.kind}:{self.name}"

    @classmethod
    def user(cls, user) -> Actor:
        return cls("user", user.pk, user.get_username())

    @classmethod
    def register(cls, register) -> Actor:
        return cls("register", register.pk, register.name)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls("system", None, name)


# --- how people read an actor -------------------------------------------------------------

# The system's own names (Actor.system(name)) as staff read them.
SYSTEM_NAMES = {
    "system": None,
    "demo": _("demo"),
    "tick": _("daily processing"),
    "tick.birthdays": _("birthday bonuses"),
    "catalog.auto_create": _("new product from a till"),
    "cli": _("server administrator"),
}


def _parse(value: str) -> tuple[str, str]:
    kind, _sep, rest = str(value or "").partition(":")
    return kind, rest


def actor_labels(values, merchant) -> dict[str, str]:
    """Each stored actor string ("user:5", "register:1", "system:demo") as people read it:
    the staff member's full name (else their user name), «register» (store), "System (demo)".
    Only the merchant's own staff and registers are named (another merchant's are not
    looked up); an id that is not found, or a string of another shape, reads as a number or
    as it is. Two queries whatever the number of values; the stored value stays as it is."""
    from kopilka.merchants.models import Register, StaffMember

    values = {str(value) for value in values if value}
    ids = {"user": set(), "register": set()}
    for value in values:
        kind, rest = _parse(value)
        if kind in ids and rest.isdigit():
            ids[kind].add(int(rest))
    merchant_id = getattr(merchant, "pk", merchant)
    users, registers = {}, {}
    if ids["user"] and merchant_id is not None:
        for member in StaffMember.objects.filter(
            merchant_id=merchant_id, user_id__in=ids["user"]
        ).select_related("user"):
            users[member.user_id] = member.user.get_full_name() or member.user.get_username()
    if ids["register"] and merchant_id is not None:
        for register in Register.objects.filter(
            merchant_id=merchant_id, pk__in=ids["register"]
        ).select_related("store"):
            registers[register.pk] = gettext("Register «%(register)s» (%(store)s)") % {
                "register": register.name,
                "store": register.store.name,
            }
    labels = {}
    for value in values:
        kind, rest = _parse(value)
        if kind == "user" and rest.isdigit():
            labels[value] = users.get(int(rest)) or gettext("Staff member #%(id)s") % {"id": rest}
        elif kind == "register" and rest.isdigit():
            labels[value] = registers.get(int(rest)) or gettext("Register #%(id)s") % {"id": rest}
        elif kind == "system":
            name = SYSTEM_NAMES.get(rest, rest)
            labels[value] = (
                gettext("System (%(name)s)") % {"name": name}
                if name
                else pgettext("actor", "System")
            )
        else:
            labels[value] = value
    return labels


def actor_label(value, merchant) -> str:
    """One stored actor string as people read it (see actor_labels)."""
    if not value:
        return ""
    return actor_labels([value], merchant)[str(value)]
