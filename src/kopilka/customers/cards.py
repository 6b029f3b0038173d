"""Card numbers (EAN-13 virtual numbers, normalisation) and card secret codes (hashed only)."""

import secrets

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password

from .models import Card

# EAN-13 numbers starting with 2 are reserved for in-store use, so a virtual card can never
# collide with a manufacturer's barcode; "29" keeps clear of 20-28, which shops commonly
# use for weighed goods.
VIRTUAL_PREFIX = "29"
VIRTUAL_ATTEMPTS = 20
SECRET_DIGITS = 6


def ean13_check_digit(first12: str) -> int:
    if len(first12) != 12 or not first12.isdigit() or not first12.isascii():
        raise ValueError("EAN-13 check digit needs exactly 12 digits")
    # Weights alternate 1, 3 from the left; the check digit tops the sum up to a multiple of 10.
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_ean13(number: str) -> bool:
    if len(number) != 13 or not number.isdigit() or not number.isascii():
        return False
    return ean13_check_digit(number[:12]) == int(number[12])


def numbers_from(first: str, count: int) -> list[str]:
    """`count` consecutive card numbers from `first` on, as a printed series runs: a valid
    EAN-13 counts on in its 12-digit body with each number's own check digit; other numbers
    count as integers keeping their width (leading zeros)."""
    if not first.isascii() or not first.isdigit():
        raise ValueError("card numbers of a series are digits")
    if is_valid_ean13(first):
        start = int(first[:12])
        bodies = [f"{start + i:012d}" for i in range(count)]
        if len(bodies[-1]) > 12:
            raise ValueError("the series runs past the last EAN-13 number")
        return [body + str(ean13_check_digit(body)) for body in bodies]
    start, width = int(first), len(first)
    numbers = [f"{start + i:0{width}d}" for i in range(count)]
    if len(numbers[-1]) > width:
        raise ValueError("the series runs past the numbers of its width")
    return numbers


def normalize_card_number(raw: str) -> str:
    # Typed numbers come with the spaces and dashes printed on the card; scanners send none.
    return "".join(ch for ch in (raw or "") if not ch.isspace() and ch != "-")


# A card type may give its virtual cards a longer prefix ("2901" for gold, say); it must
# start with VIRTUAL_PREFIX and leave enough random digits for numbers not to be guessed.
VIRTUAL_PREFIX_MAX = 6


def is_valid_virtual_prefix(prefix: str) -> bool:
    return (
        prefix.isascii()
        and prefix.isdigit()
        and prefix.startswith(VIRTUAL_PREFIX)
        and len(prefix) <= VIRTUAL_PREFIX_MAX
    )


def random_virtual_number(prefix: str = VIRTUAL_PREFIX) -> str:
    body = prefix + "".join(str(secrets.randbelow(10)) for _ in range(12 - len(prefix)))
    return body + str(ean13_check_digit(body))


def generate_virtual_number(merchant, prefix: str = VIRTUAL_PREFIX) -> str:
    """A valid EAN-13 in the in-store range (starting with `prefix`) that no card of
    `merchant` has yet.

    Random rather than sequential so that numbers cannot be guessed from one another.
    The caller still relies on the unique constraint: another transaction may take the same
    number between this check and the insert.
    """
    taken = Card.objects.filter(merchant=merchant)
    for _attempt in range(VIRTUAL_ATTEMPTS):
        number = random_virtual_number(prefix or VIRTUAL_PREFIX)
        if not taken.filter(number=number).exists():
            return number
    # 10**10 numbers per merchant: reaching this means something else is badly wrong.
    raise RuntimeError("no free virtual card number found")


class CardSecretHasher(PBKDF2PasswordHasher):
    """PBKDF2 with far fewer rounds than for passwords.

    A 6-digit code has only 10**6 values, so slow hashing cannot protect it from an offline
    search anyway; what matters is that it is never stored in clear. Fewer rounds keep
    registration at the till fast. The algorithm name is the stock one, so the standard
    check_password() verifies these hashes (it reads the rounds from the hash itself).
    """

    iterations = 10_000


def generate_secret() -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(SECRET_DIGITS))


def hash_secret(plain: str) -> str:
    return make_password(plain, hasher=CardSecretHasher())


def card_secret_verify(*, card: Card, secret: str) -> bool:
    """Whether `secret` is the card's secret code. A card without a secret matches nothing."""
    secret = (secret or "").strip()
    if not card.secret_hash or not secret:
        return False
    return check_password(secret, card.secret_hash)
