"""Admin of the customers app (scoped to the staff user's merchant)."""
