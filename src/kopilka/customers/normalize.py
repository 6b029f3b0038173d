"""Canonical forms of customer contacts and names, so that equal things compare equal.

Phones become E.164, e-mails lower case, names a case-folded search key.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .exceptions import InvalidEmail, InvalidPhone


def normalize_phone(raw: str, region: str) -> str:
    """E.164 form of `raw`, read as a number of `region` unless it carries its own "+code"."""
    try:
        number = phonenumbers.parse((raw or "").strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(raw=raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(raw=raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    # The local part is case-sensitive in theory, but no real mail system treats it so, and
    # people type their address in whatever case: one person must not become two customers.
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidEmail(raw=raw) from exc
    return email


def name_search_key(*parts: str) -> str:
    """Case-folded name with Cyrillic yo written as ye, so a search matches however it was typed.

    Kept in a column because SQLite's LIKE and LOWER() fold ASCII only, not Cyrillic.
    """
    text = " ".join(p.strip() for p in parts if p and p.strip())
    return text.casefold().replace("\u0451", "\u0435")  # yo -> ye
