"""Back-office registrations: one module per area, imported here so Django's admin
autodiscovery finds them."""

from . import (  # noqa: F401
    admin_catalog,
    admin_customers,
    admin_ledger,
    admin_merchants,
    admin_pos,
    admin_programs,
)
