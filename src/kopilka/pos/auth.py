"""Registers authenticate with their API key: `Authorization: Bearer <key>`.

Wrong keys are counted per client address (`limits.ratelimit`, scope `api_key_address`). Past
the limit, that address is refused with a 429 before its key is even looked at, right or
wrong, until the window ends; a right key costs no counting at all. The database's counter is
shared by every worker; each worker also remembers the addresses it saw refused, so it stops
them without asking the database again.
"""

import time

from django.utils import translation
from ninja.security import HttpBearer

from kopilka.limits import ratelimit
from kopilka.merchants.services import register_authenticate
from kopilka.merchants.sign_in import client_address

SCOPE = "api_key_address"
_refused_until: dict[str, float] = {}  # address -> monotonic time the refusal ends


def _remember(address: str, seconds: int) -> None:
    now = time.monotonic()
    if len(_refused_until) >= 10_000:  # many addresses: forget the refusals that ended
        for gone in [a for a, until in _refused_until.items() if until <= now]:
            del _refused_until[gone]
    _refused_until[address] = now + seconds


class RegisterKey(HttpBearer):
    def authenticate(self, request, token):
        address = client_address(request)
        until = _refused_until.get(address)
        if until is not None:
            if until > time.monotonic():
                raise ratelimit.RateLimited(
                    scope=SCOPE, retry_after=max(1, round(until - time.monotonic()))
                )
            del _refused_until[address]
        register = register_authenticate(token)
        if register is None:
            try:
                ratelimit.hit(SCOPE, address)
            except ratelimit.RateLimited as refused:
                _remember(address, refused.retry_after)
                raise
            return None
        request.register = register
        request.merchant = register.merchant
        # Problem documents and messages speak the merchant's language.
        translation.activate(register.merchant.language)
        return register
