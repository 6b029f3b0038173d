"""Who performs a change: a staff user, a register, or the system itself (jobs, imports)."""

from __future__ import annotations

from dataclasses import dataclass


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
