"""URLs of the cashier screen (/cashier/)."""

from django.urls import path

from . import views

app_name = "cashier"
urlpatterns = [
    path("", views.till, name="till"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("register/", views.choose, name="choose"),
    path("new/", views.fresh, name="new"),
    path("identify/", views.identify, name="identify"),
    path("customer/clear/", views.customer_clear, name="customer_clear"),
    path("customer/new/", views.customer_new, name="customer_new"),
    path("customer/<int:customer_id>/edit/", views.customer_edit, name="customer_edit"),
    path("customer/<int:customer_id>/code/", views.customer_code, name="customer_code"),
    path(
        "customer/<int:customer_id>/code/resend/",
        views.customer_code_resend,
        name="customer_code_resend",
    ),
    path("products/", views.products, name="products"),
    path("receipt/", views.receipt, name="receipt"),
    path("scan/", views.scan, name="scan"),
    path("confirm/", views.confirm, name="confirm"),
    path("refund/", views.refund_start, name="refund"),
    path("refund/<int:receipt_id>/", views.refund_lines, name="refund_lines"),
    path("refund/<int:receipt_id>/book/", views.refund_book, name="refund_book"),
]
