"""Admin of the catalog app (scoped to the staff user's merchant)."""
