"""Writes of the Open311 server: a service request is submitted through the citizen API's intake
(services.signalement_submit): same validation, locating, duplicates, idempotency and e-mails.

API keys are the REST API's tokens (rest_framework.authtoken), issued in the admin ("Jetons") to
an active account made for each client application: the key identifies the application, its
submissions count against its own throttle and carry its own idempotency keys."""

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from rest_framework.authtoken.models import Token

from cartography.geocoding import get_geocoder

from ..intake.services import ReporterData, signalement_submit
from ..models import Channel, Signalement
from ..photos import photo_clean
from .selectors import RequestInvalid, service

MAX_DESCRIPTION = 5000
MAX_ADDRESS = 300


def api_key_user(key: str):
    """The active account whose token is `key`, or None."""
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


@dataclass(frozen=True)
class Submitted:
    signalement: Signalement
    created: bool


def _number(name: str, text: str, low: float, high: float, errors: list[str]) -> float | None:
    try:
        value = float(text)
    except ValueError:
        errors.append(f"{name}: not a number")
        return None
    if not low <= value <= high:  # NaN fails too
        errors.append(f"{name}: between {low:g} and {high:g}")
        return None
    return value


def request_submit(*, params, files, client, idempotency_key: str | None = None) -> Submitted:
    """POST requests: service_code; lat and long, or address_string (found by the city's
    geocoder); description; email, first_name, last_name and phone as the reporter's private
    contact; one photo as `media`. attributes[...] are accepted and ignored: no service declares
    any (metadata false)."""
    errors: list[str] = []
    code = params.get("service_code", "").strip()
    category = service(code) if code else None
    if not code:
        errors.append("service_code: required")
    elif category is None:
        errors.append(f"service_code: unknown {code[:50]!r}")
    lat_text, lon_text = params.get("lat", "").strip(), params.get("long", "").strip()
    address = params.get("address_string", "").strip()
    location = None
    if lat_text or lon_text:
        lat = _number("lat", lat_text, -90, 90, errors)
        lon = _number("long", lon_text, -180, 180, errors)
        if lat is not None and lon is not None:
            location = Point(lon, lat, srid=4326)
    elif address:
        found = get_geocoder().search(address[:MAX_ADDRESS], limit=1)
        if not found:
            errors.append("address_string: no such place in the city")
        else:
            location = Point(found[0].lon, found[0].lat, srid=4326)
    else:
        errors.append("lat/long: required, or address_string")
    description = params.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        errors.append(f"description: at most {MAX_DESCRIPTION} characters")
    if len(address) > MAX_ADDRESS:
        errors.append(f"address_string: at most {MAX_ADDRESS} characters")
    email = params.get("email", "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append("email: not an e-mail address")
    phone = params.get("phone", "").strip()
    if len(phone) > 40:
        errors.append("phone: at most 40 characters")
    name = " ".join(
        part for part in (params.get("first_name", "").strip(), params.get("last_name", "").strip()) if part
    )
    photos = []
    if media := files.get("media"):
        try:
            photos.append(photo_clean(media))
        except ValidationError as exc:
            errors += [f"media: {message}" for message in exc.messages]
    if errors:
        raise RequestInvalid(errors)
    try:
        signalement, created = signalement_submit(
            category=category,
            location=location,
            description=description,
            address=address,
            channel=Channel.API,
            reporter=ReporterData(name=name[:200], email=email, phone=phone),
            photos=photos,
            idempotency_key=idempotency_key,
            author=client,
        )
    except ValidationError as exc:
        if exc.__class__.__name__ == "IdempotencyKeyReused":
            raise
        names = {"location": "lat/long", "category": "service_code"}
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise RequestInvalid(
            [
                f"{names.get(field, field)}: {message}".lstrip(": ")
                for field, items in messages.items()
                for message in items
            ]
        ) from exc
    return Submitted(signalement, created)
