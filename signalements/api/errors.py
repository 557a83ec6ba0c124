from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from ..desk.services import EditConflict
from ..intake.services import IdempotencyKeyReused


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


class IdempotencyConflict(exceptions.APIException):
    """The key was used for another content: like Stripe's and the IETF draft's idempotency keys."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


def exception_handler(exc, context):
    """DRF's handler, plus Django ValidationErrors raised by services, as the same 400 shape: 409
    when the report changed since the author read it, 422 for a reused idempotency key (named
    after the header that carried it)."""
    if isinstance(exc, EditConflict):
        exc = Conflict(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, IdempotencyKeyReused):
        exc = IdempotencyConflict(detail={"Idempotency-Key": exc.messages})
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
