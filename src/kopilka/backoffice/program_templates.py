"""The "New program from a template" page of the programs list: the seeds' programs, each with
what it does and its worked example; choosing one makes the program
(programs.templates.program_from_template) and opens its page to adjust."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from kopilka.errors import KopilkaError
from kopilka.programs.templates import TEMPLATES, program_from_template

from .scoping import request_actor, request_merchant


def templates_view(model_admin, request):
    merchant = request_merchant(request)
    if request.method == "POST" and merchant is not None:
        try:
            program = program_from_template(
                merchant=merchant,
                template=request.POST.get("template", ""),
                name=request.POST.get("name", "")[:200],
                actor=request_actor(request),
            )
        except KopilkaError as error:
            model_admin.message_user(request, error.message, messages.ERROR)
        else:
            model_admin.message_user(
                request,
                _("The program “%(name)s” is ready: adjust its figures and save.")
                % {"name": program.name},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:programs_program_change", args=[program.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("New program from a template"),
        "templates": TEMPLATES,
        "no_merchant": merchant is None,
        "chosen": request.POST.get("template", ""),
    }
    return TemplateResponse(request, "backoffice/program_templates.html", context)
