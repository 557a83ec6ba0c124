"""Input guards: malformed requests are refused with a 400 and a message before any view sees them.

PostgreSQL text cannot hold a NUL character, so a NUL that reached a query (a token, a slug, a
key) was a server error; other control characters have no place in a URL, a header or a form
field either. Checking them once, here, spares every view and serializer the question.
"""

import math
import re

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# C0 controls and DEL. Tab, line feed and carriage return are ordinary in a textarea's value.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a header value may hold a tab
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refusal(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": message}, status=400, json_dumps_params={"ensure_ascii": False})
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _has_control(values, pattern: re.Pattern) -> bool:
    return any(pattern.search(value) for value in values)


def _keys_and_values(query_dict) -> list[str]:
    return [text for key, values in query_dict.lists() for text in (key, *values) if isinstance(text, str)]


class ControlCharactersGuard:
    """Refuse control characters in the path, the query string, header values and form fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self.problem(request)
        if problem is not None:
            return _refusal(request, problem)
        return self.get_response(request)

    @staticmethod
    def problem(request: HttpRequest) -> str | None:
        if CONTROL.search(request.path):
            return _("L'adresse demandée contient des caractères de contrôle.")
        if _has_control(_keys_and_values(request.GET), CONTROL):
            return _("Les paramètres de l'adresse contiennent des caractères de contrôle.")
        headers = (v for k, v in request.META.items() if k.startswith("HTTP_") and isinstance(v, str))
        if _has_control(headers, CONTROL_BUT_TAB):
            return _("Un en-tête de la demande contient des caractères de contrôle.")
        # A form is parsed here once; Django and DRF reuse it (DRF reads request.POST then).
        if (
            request.method == "POST"
            and request.content_type in FORM_MEDIA_TYPES
            and _has_control(_keys_and_values(request.POST), CONTROL_BUT_WHITESPACE)
        ):
            return _("Un champ du formulaire contient des caractères de contrôle.")
        return None


class GuardedJSONParser(JSONParser):
    """DRF's JSON parser, refusing what no endpoint accepts: a body that is not an object, nesting
    deeper than SIGNALEMENT_MAX_JSON_DEPTH (Python's decoder gives up with a RecursionError near
    1,000 levels), and NUL characters, which PostgreSQL cannot store."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_json_too_deep()) from exc
        if not isinstance(data, dict):
            raise ParseError(_("Le corps JSON doit être un objet ({…})."))
        _json_check(data)
        return data


def _json_too_deep() -> str:
    return _("Le JSON est imbriqué trop profondément (%(max)d niveaux au plus).") % {
        "max": settings.SIGNALEMENT_MAX_JSON_DEPTH
    }


def _json_check(data) -> None:
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > settings.SIGNALEMENT_MAX_JSON_DEPTH:
            raise ParseError(_json_too_deep())
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise ParseError(_("Le JSON contient un caractère NUL."))
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            raise ParseError(_("Le JSON contient un caractère NUL."))


def bbox_parse(text: str) -> Polygon:
    """`minlon,minlat,maxlon,maxlat` in WGS84, as a polygon; a ValidationError with a message for
    anything else (not four numbers, not finite, out of range, or minimum above maximum)."""
    message = _(
        "Rectangle invalide : quatre nombres minlon,minlat,maxlon,maxlat en WGS84, "
        "longitudes entre -180 et 180, latitudes entre -90 et 90, minimum avant maximum."
    )
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise ValidationError(message, code="invalid") from exc
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValidationError(message, code="invalid")
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90):
        raise ValidationError(message, code="invalid")
    polygon = Polygon.from_bbox(values)
    polygon.srid = 4326
    return polygon
