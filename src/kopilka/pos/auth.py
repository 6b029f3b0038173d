"""Registers authenticate with their API key: `Authorization: Bearer <key>`."""

from django.utils import translation
from ninja.security import HttpBearer

from kopilka.merchants.services import register_authenticate


class RegisterKey(HttpBearer):
    def authenticate(self, request, token):
        register = register_authenticate(token)
        if register is None:
            return None
        request.register = register
        request.merchant = register.merchant
        # Problem documents and messages speak the merchant's language.
        translation.activate(register.merchant.language)
        return register
