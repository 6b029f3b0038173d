"""Admin of the programs app (scoped to the staff user's merchant)."""
