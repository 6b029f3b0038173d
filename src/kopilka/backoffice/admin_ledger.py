"""Admin of the ledger app (scoped to the staff user's merchant)."""
