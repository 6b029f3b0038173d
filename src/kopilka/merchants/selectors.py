"""Reads of tenancy."""

from .models import Merchant, StaffMember


def merchant_of_user(user) -> Merchant | None:
    member = StaffMember.objects.select_related("merchant").filter(user_id=user.pk).first()
    return member.merchant if member else None
