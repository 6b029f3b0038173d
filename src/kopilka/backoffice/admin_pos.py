"""Admin of the pos app (scoped to the staff user's merchant)."""
