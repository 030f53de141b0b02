"""Admin actions run on the rows a form names; a form that names something other than rows is refused.

Django's admin filters ``pk__in=`` with whatever ``_selected_action`` values were posted and only finds
out they are not ids when the query runs: a tampered form (``abc``, ``1e3``, an empty value, a number too
large for the database) would end in a 500. Here it ends in a 400 that says what was wrong, before any
action runs, on every admin page of the site (the third-party ones included).
"""

from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest


class CheckedSelection:
    def response_action(self, request, queryset):
        primary_key = queryset.model._meta.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                # The validators hold the database's integer range: a 400-digit id would overflow the query.
                primary_key.run_validators(primary_key.to_python(value))
            except ValidationError:
                return HttpResponseBadRequest(
                    "The selection in this form is not a list of rows. Reload the page, tick the rows again "
                    "and choose the action.",
                    content_type="text/plain; charset=utf-8",
                )
        return super().response_action(request, queryset)


def check_every_selection(site):
    """Give every ModelAdmin registered on ``site`` the check; run once all apps have registered theirs."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, CheckedSelection):
            continue
        checked = type(f"Checked{type(model_admin).__name__}", (CheckedSelection, type(model_admin)), {})
        site.unregister(model)
        site.register(model, checked)
