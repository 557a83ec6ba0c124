"""A work list's filters read from a query string, for the crew's pages and the crew API alike."""

from django import forms
from django.core.exceptions import ValidationError

from cartography.models import District

from ..models import Category, Priority
from ..trust.guards import bbox_parse
from .worklists import WORK_STATUSES


class WorkListFilterForm(forms.Form):
    """The filters of a work list that need parsing; the others are ignored when unknown."""

    deadline_before = forms.DateField(required=False)
    bbox = forms.CharField(required=False)

    def clean_bbox(self):
        return bbox_parse(self.cleaned_data["bbox"]) if self.cleaned_data["bbox"] else None


def work_list_filters(query) -> dict:
    """The work list's filters from the query string; a ValidationError, per field, for a date
    or a rectangle that cannot be one."""
    filters = {}
    if query.get("category"):
        filters["category"] = Category.objects.filter(slug=query["category"]).first()
    if query.get("priority") in Priority.values:
        filters["priority"] = query["priority"]
    if query.get("status") in WORK_STATUSES:
        filters["status"] = query["status"]
    if query.get("district", "").isdecimal():  # not isdigit(): int() refuses "²"
        filters["district"] = District.objects.filter(pk=query["district"]).first()
    parsed = WorkListFilterForm(query)
    if not parsed.is_valid():
        raise ValidationError({name: list(errors) for name, errors in parsed.errors.items()})
    for name in ("deadline_before", "bbox"):
        if parsed.cleaned_data[name] is not None:
            filters[name] = parsed.cleaned_data[name]
    return filters
