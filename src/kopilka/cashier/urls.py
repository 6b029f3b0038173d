"""URLs of the cashier screen (/cashier/)."""

app_name = "cashier"
urlpatterns: list = []
