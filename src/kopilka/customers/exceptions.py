"""Errors of customers, their cards and groups."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kopilka.errors import Conflict, KopilkaError, NotFound, ValidationFailed

_CONTACT_LABELS = {"phone": _("phone"), "email": _("e-mail")}


class InvalidPhone(ValidationFailed):
    code = "invalid_phone"
    default_message = _("The phone number is not valid.")


class InvalidEmail(ValidationFailed):
    code = "invalid_email"
    default_message = _("The e-mail address is not valid.")


class ContactRequired(ValidationFailed):
    code = "contact_required"
    default_message = _("Give at least a phone number or an e-mail address.")


class DuplicateCustomer(Conflict):
    code = "duplicate_customer"
    default_message = _("This customer is already registered.")

    def __init__(self, *, field: str, customer_id: int | None = None):
        message = format_lazy(
            _("A customer with this {field} is already registered."),
            field=_CONTACT_LABELS.get(field, field),
        )
        super().__init__(message, field=field, customer_id=customer_id)


class PlanLimitReached(KopilkaError):
    code = "plan_limit_reached"
    status = 403
    default_message = _("The customer limit of your plan is reached.")

    def __init__(self, *, limit: int):
        message = format_lazy(
            _("The customer limit of your plan ({limit}) is reached."), limit=limit
        )
        super().__init__(message, limit=limit)


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    default_message = _("Customer not found.")


class CardNotAssigned(CustomerNotFound):
    code = "card_not_assigned"
    default_message = _("This card has no owner yet: register the customer with it.")


class CustomerAnonymised(Conflict):
    code = "customer_anonymised"
    default_message = _("The customer's personal data was erased; the record cannot be changed.")


class CustomerStatusConflict(Conflict):
    code = "customer_status_conflict"
    default_message = _("The customer's status does not allow this.")


class InvalidCustomerData(ValidationFailed):
    code = "validation_error"


class CardNotFound(NotFound):
    code = "card_not_found"
    default_message = _("Card not found.")


class DuplicateCard(Conflict):
    code = "duplicate_card"
    default_message = _("A card with this number already exists.")


class InvalidCardNumber(ValidationFailed):
    code = "invalid_card_number"
    default_message = _("The card number is missing or not valid.")


class CardStatusConflict(Conflict):
    code = "card_status_conflict"
    default_message = _("The card's status does not allow this.")


class GroupNotFound(NotFound):
    code = "group_not_found"
    default_message = _("Customer group not found.")


class DuplicateGroup(Conflict):
    code = "duplicate_group"
    default_message = _("A customer group with this name already exists.")


class CardTypeNotFound(NotFound):
    code = "card_type_not_found"
    default_message = _("Card type not found.")


class DuplicateCardType(Conflict):
    code = "duplicate_card_type"
    default_message = _("A card type with this name already exists.")
