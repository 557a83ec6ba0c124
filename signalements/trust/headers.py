"""Responses that carry personal data are never stored by a browser or a shared cache."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty

# Routes whose URL or page is a citizen's own: the tracking pages and API (the secret is the URL),
# the report form's steps (the draft's contact details, then the tracking link once sent).
PRIVATE_ROUTE_PREFIXES = ("tracking", "report")


def user_seen_and_authenticated(request: HttpRequest) -> bool:
    """Whether the response was made for a signed-in user. A user nobody looked at (Django's lazy
    user never evaluated) shaped nothing in the response: not evaluating it here keeps the session
    unread and public responses free of `Vary: Cookie`."""
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return False
    return user.is_authenticated


def response_is_personal(request: HttpRequest) -> bool:
    """The rule: made for a signed-in user (desk, crew, admin, any authenticated API call), or on a
    citizen's private route, or the answer to a write (a submission returns its tracking link)."""
    if user_seen_and_authenticated(request):
        return True
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return True
    match = request.resolver_match
    return bool(match and match.url_name and match.url_name.startswith(PRIVATE_ROUTE_PREFIXES))


class NoStorePersonalDataMiddleware:
    """`Cache-Control: no-store` (with Django's never-cache set) on every personal response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response_is_personal(request):
            add_never_cache_headers(response)
        return response
