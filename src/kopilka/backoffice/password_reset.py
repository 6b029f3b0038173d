"""Staff password reset: Django's own views and tokens, dressed as back-office pages.

The admin's login page links here once the `admin_password_reset` URL exists. The letter goes
through EMAIL_BACKEND (settings: the console in development, SMTP when configured).
"""

from django.contrib import admin
from django.contrib.auth import forms
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import path, reverse, reverse_lazy
from django.utils.translation import gettext_noop
from unfold.widgets import BASE_INPUT_CLASSES

from kopilka.limits import ratelimit

# Shown by unfold on every signed-out page (this one, the sign-in); unfold has no Russian or
# Ukrainian for it, so our catalogue carries it.
gettext_noop("Return to site")


def _styled(form, *names):
    """The back office's input look (unfold's classes) on the named fields."""
    for name in names:
        form.fields[name].widget.attrs["class"] = " ".join(BASE_INPUT_CLASSES)


class _AdminLook:
    """The look of the back office's sign-in page: unfold's layout for signed-out people, with
    the site's colours and title."""

    def get_context_data(self, **kwargs):
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}


class ResetForm(forms.PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self, "email")


class NewPasswordForm(forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self, "new_password1", "new_password2")


class ResetRequest(_AdminLook, auth_views.PasswordResetView):
    template_name = "backoffice/password_reset/form.html"
    form_class = ResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # A few letters an hour per address, so the form cannot flood somebody's mailbox.
        # Over the limit the answer is the same page as always, minus the letter: it must not
        # tell which addresses exist.
        try:
            ratelimit.hit("password_reset", form.cleaned_data["email"].strip().lower())
        except ratelimit.RateLimited:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class ResetRequested(_AdminLook, auth_views.PasswordResetDoneView):
    template_name = "backoffice/password_reset/done.html"


class ResetConfirm(_AdminLook, auth_views.PasswordResetConfirmView):
    template_name = "backoffice/password_reset/confirm.html"
    form_class = NewPasswordForm

    def get_success_url(self):
        done = reverse("password_reset_complete")
        # Cashiers sign in at the till, not in the back office (which would refuse them).
        return done if self.user.is_staff else f"{done}?till=1"


class ResetComplete(_AdminLook, auth_views.PasswordResetCompleteView):
    template_name = "backoffice/password_reset/complete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        till = self.request.GET.get("till") == "1"
        context["login_url"] = reverse("cashier:login" if till else "admin:login")
        return context


urlpatterns = [
    path("admin/password_reset/", ResetRequest.as_view(), name="admin_password_reset"),
    path("admin/password_reset/done/", ResetRequested.as_view(), name="password_reset_done"),
    path("admin/reset/<uidb64>/<token>/", ResetConfirm.as_view(), name="password_reset_confirm"),
    path("admin/reset/done/", ResetComplete.as_view(), name="password_reset_complete"),
]
