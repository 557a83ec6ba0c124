"""Throttles: how often one client may call an operation that costs the city something (a report,
an e-mail, a geocoder query) or that guesses at a secret (a tracking link).

One client is one authenticated user, or else one IP address (an IPv6 client's /64, which its
provider hands out whole). Counters live in the "throttles" cache, on Redis, shared by every web
process. The REST API uses DRF's scoped throttle; the pages use django-ratelimit's counter. Both
answer 429 with Retry-After, and both let the request through when Redis cannot be reached: a
report must still be accepted while Redis is down (the sweep sends its e-mails later).
"""

import ipaddress
import logging
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.shortcuts import render
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)

CACHE_ALIAS = "throttles"


def throttles_enabled() -> bool:
    return settings.SIGNALEMENT_THROTTLES_ENABLED


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or, behind SIGNALEMENT_TRUSTED_PROXIES proxies, the
    address the outermost trusted proxy saw (X-Forwarded-For is written right to left, each proxy
    appending the address it received the request from; what lies further left is the client's
    own word). IPv6 addresses are reduced to their /64. None when there is no valid address (a
    request built in code, a proxy that wrote garbage)."""
    addresses = [request.META.get("REMOTE_ADDR", "")]
    proxies = settings.SIGNALEMENT_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        addresses = forwarded + addresses
        addresses = addresses[-(proxies + 1) :]
    try:
        address = ipaddress.ip_address(addresses[0])
    except ValueError:
        return None
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def client_ident(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


class ClientRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle on the client identity above, for the views that set throttle_scope.

    Rates are read from settings at each request (DRF reads them once, at import), so that an
    environment change or a test's settings apply; throttle_methods on a view limits the throttle
    to those methods (a submission, not the list beside it)."""

    @property
    def cache(self):
        return caches[CACHE_ALIAS]

    def allow_request(self, request, view) -> bool:
        if not throttles_enabled():
            return True
        methods = getattr(view, "throttle_methods", None)
        if methods is not None and request.method not in methods:
            return True
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("Throttle cache unreachable: %s let through", request.path)
            return True

    def get_rate(self) -> str:
        return settings.SIGNALEMENT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ident(request)}


def _ratelimit_key(group: str, request) -> str:
    return client_ident(request)


def page_throttle(
    group: str, *, methods: Iterable[str] = ("POST",), when: Callable | None = None
) -> Callable:
    """Limit a page view to SIGNALEMENT_THROTTLE_RATES[group] per client, counted on `methods`
    (and only when `when(request)` holds, for one action among several posted to one view).
    Over the limit: the 429 page, with Retry-After."""
    methods = tuple(methods)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if throttles_enabled() and request.method in methods and (when is None or when(request)):
                try:
                    usage = get_usage(
                        request,
                        group=group,
                        key=_ratelimit_key,
                        rate=settings.SIGNALEMENT_THROTTLE_RATES[group],
                        method=methods,
                        increment=True,
                    )
                except RedisError:
                    logger.warning("Throttle cache unreachable: %s let through", request.path)
                    usage = None
                if usage is not None and usage["should_limit"]:
                    return throttled_page(request, retry_after=max(usage["time_left"], 1))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def login_username(request, credentials=None) -> str | None:
    """The username a login attempt is counted under (AXES_USERNAME_CALLABLE): as typed, cut to
    the length django-axes stores. A longer one, which no account can have, was a server error."""
    from axes.models import AccessAttempt

    source = credentials or getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(username, str):
        return username
    return username[: AccessAttempt._meta.get_field("username").max_length]


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): the 429 page, saying
    when to try again, with Retry-After."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request, "lockout.html", {"retry_after": seconds, "minutes": -(-seconds // 60)}, status=429
    )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


def throttled_page(request, *, retry_after: int):
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response
