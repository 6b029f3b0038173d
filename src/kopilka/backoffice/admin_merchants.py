"""Admin of the merchants app (scoped to the staff user's merchant)."""
