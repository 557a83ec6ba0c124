"""Open311 GeoReport v2 endpoints: thin adapters over selectors and services.

DRF views for the submission's throttle (the citizen API's "submit" scope, per API key) and
parsers; every answer, errors included, is the standard's XML or JSON, not DRF's. Left out of
the OpenAPI schema: GeoReport v2 is its own specification."""

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, parsers
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..intake.services import IdempotencyKeyReused
from ..models import Category, Signalement
from .render import errors, respond, w3c
from .selectors import (
    RequestInvalid,
    open311_status,
    public_text,
    request_get,
    requests_find,
    service,
    services,
    updates_find,
)
from .services import api_key_user, request_submit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00Z"


class ApiKeyAuthentication(BaseAuthentication):
    """`api_key` in the form or the query string: a REST API token (services.api_key_user)."""

    def authenticate(self, request):
        key = request.data.get("api_key") if request.method == "POST" else None
        key = key or request.query_params.get("api_key")
        if not key:
            return None
        user = api_key_user(str(key))
        if user is None:
            raise exceptions.PermissionDenied("api_key: unknown or revoked")
        return (user, key)


class AnyFormat(BaseContentNegotiation):
    """The format is the URL's suffix, whatever the Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class Open311View(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = []
    parser_classes = [parsers.FormParser, parsers.MultiPartParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyFormat
    throttle_classes = []

    def handle_exception(self, exc):
        fmt = self.kwargs.get("fmt", "json")
        if isinstance(exc, exceptions.Throttled):
            response = errors(fmt, 429, [f"Too many requests: retry in {int(exc.wait or 1)} s"])
            response["Retry-After"] = str(int(exc.wait or 1))
            return response
        if isinstance(
            exc, (exceptions.PermissionDenied, exceptions.NotAuthenticated, exceptions.AuthenticationFailed)
        ):
            return errors(fmt, 403, [str(exc.detail)])
        if isinstance(exc, exceptions.ParseError):
            return errors(fmt, 400, [str(exc.detail)])
        if isinstance(exc, exceptions.MethodNotAllowed):
            return errors(fmt, 405, [str(exc.detail)])
        return super().handle_exception(exc)


def _request_item(request, signalement: Signalement) -> dict:
    """A service request: every field of the standard, none of the reporter's."""
    media = request.build_absolute_uri(default_storage.url(signalement.photo)) if signalement.photo else ""
    return {
        "service_request_id": signalement.reference,
        "status": open311_status(signalement.status),
        "status_notes": public_text(signalement.status_text),
        "service_name": signalement.category.name,
        "service_code": signalement.category.slug,
        "description": signalement.public_description,
        "agency_responsible": signalement.team.name if signalement.team_id else "",
        "service_notice": "",
        "requested_datetime": w3c(signalement.created_at),
        "updated_datetime": w3c(signalement.updated_at),
        "expected_datetime": "",
        "address": signalement.address,
        "address_id": "",
        "zipcode": "",
        "lat": signalement.location.y,
        "long": signalement.location.x,
        "media_url": media,
    }


def _service_item(category: Category) -> dict:
    return {
        "service_code": category.slug,
        "service_name": category.name,
        "description": category.hint,
        "metadata": False,
        "type": "realtime",
        "keywords": category.group.slug,
        "group": category.group.name,
    }


class DiscoveryView(Open311View):
    @extend_schema(exclude=True)
    def get(self, request, fmt: str):
        endpoint = request.build_absolute_uri(reverse("open311-root"))
        data = {
            "changeset": CHANGESET,
            "contact": settings.DEFAULT_FROM_EMAIL,
            "key_service": request.build_absolute_uri(reverse("opendata")),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": endpoint,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }
        return respond(fmt, data, root="discovery", item=None)


class ServiceListView(Open311View):
    @extend_schema(exclude=True)
    def get(self, request, fmt: str):
        return respond(fmt, [_service_item(c) for c in services()], root="services", item="service")


class ServiceDefinitionView(Open311View):
    @extend_schema(exclude=True)
    def get(self, request, slug: str, fmt: str):
        category = service(slug)
        if category is None:
            return errors(fmt, 404, [f"service_code: unknown {slug[:50]!r}"])
        return respond(
            fmt, {"service_code": category.slug, "attributes": []}, root="service_definition", item=None
        )


class RequestListView(Open311View):
    throttle_classes = list(APIView.throttle_classes)
    throttle_scope = "submit"
    throttle_methods = ("POST",)

    @extend_schema(exclude=True)
    def get(self, request, fmt: str):
        try:
            found = requests_find(request.query_params)
        except RequestInvalid as exc:
            return errors(fmt, 400, exc.errors)
        return respond(
            fmt, [_request_item(request, s) for s in found], root="service_requests", item="request"
        )

    @extend_schema(exclude=True)
    def post(self, request, fmt: str):
        if not request.user.is_authenticated:
            return errors(fmt, 403, ["api_key: required"])
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 128:
            return errors(fmt, 400, ["Idempotency-Key: at most 128 characters"])
        try:
            submitted = request_submit(
                params=request.data, files=request.FILES, client=request.user, idempotency_key=key
            )
        except RequestInvalid as exc:
            return errors(fmt, 400, exc.errors)
        except IdempotencyKeyReused as exc:
            return errors(fmt, 422, [f"Idempotency-Key: {message}" for message in exc.messages])
        item = {
            "service_request_id": submitted.signalement.reference,
            "service_notice": "",
            "account_id": "",
        }
        return respond(
            fmt, [item], root="service_requests", item="request", status=201 if submitted.created else 200
        )


class RequestDetailView(Open311View):
    @extend_schema(exclude=True)
    def get(self, request, reference: str, fmt: str):
        found = request_get(reference)
        if found is None:
            return errors(fmt, 404, [f"service_request_id: unknown {reference[:50]!r}"])
        return respond(fmt, [_request_item(request, found)], root="service_requests", item="request")


class TokenView(Open311View):
    """Submissions are stored at once: a request's token is its service_request_id."""

    @extend_schema(exclude=True)
    def get(self, request, token: str, fmt: str):
        found = request_get(token)
        if found is None:
            return errors(fmt, 404, [f"token: unknown {token[:50]!r}"])
        item = {"service_request_id": found.reference, "token": token}
        return respond(fmt, [item], root="service_requests", item="request")


class RequestUpdatesView(Open311View):
    """mySociety's servicerequestupdates extension."""

    @extend_schema(exclude=True)
    def get(self, request, fmt: str):
        try:
            updates = updates_find(request.query_params)
        except RequestInvalid as exc:
            return errors(fmt, 400, exc.errors)
        items = [
            {
                "update_id": update.update_id,
                "service_request_id": update.service_request_id,
                "status": update.status,
                "updated_datetime": w3c(update.updated_datetime),
                "description": update.description,
                "media_url": update.media_url,
            }
            for update in updates
        ]
        return respond(fmt, items, root="service_request_updates", item="request_update")
