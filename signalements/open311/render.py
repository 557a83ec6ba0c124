"""The two formats of GeoReport v2: a JSON array (or object) and XML of the same shape, with the
standard's error bodies."""

import json
from datetime import datetime
from xml.etree import ElementTree

from django.http import HttpResponse
from django.utils import timezone

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def w3c(value: datetime | None) -> str:
    """ISO 8601 with the city's offset, to the second: 2026-03-14T09:15:00+01:00."""
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds")


def _xml_value(parent: ElementTree.Element, name: str, value) -> None:
    element = ElementTree.SubElement(parent, name)
    if isinstance(value, list):  # a list of plain values, each in an element of the singular name
        for item in value:
            _xml_value(element, name.removesuffix("s"), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _xml_value(element, key, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def xml_document(root: str, item: str | None, data) -> bytes:
    """`data` (a list of objects, each an `item` element, or one object) under `root`."""
    element = ElementTree.Element(root)
    if item is None:
        for key, value in data.items():
            _xml_value(element, key, value)
    else:
        for entry in data:
            _xml_value(element, item, entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="utf-8")


def respond(fmt: str, data, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    body = xml_document(root, item, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, content_type=CONTENT_TYPES[fmt], status=status)


def errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """<errors><error><code>…</code><description>…</description></error></errors>, or the JSON list."""
    items = [{"code": status, "description": description} for description in descriptions]
    return respond(fmt, items, root="errors", item="error", status=status)
