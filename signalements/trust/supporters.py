"""Who a "me too" is: the key that makes one person count once on a report.

The key used to be a hash of what the client sent (a session cookie on the pages, a client_key
on the API), so a client counted as many times as it minted keys: one raised a report by 195.
It now comes from what the client cannot choose freely: the account when logged in, else the
client's address (trust.throttles.client_ip, an IPv6 /64) with its User-Agent. A household or a
company behind one address may count once where it is several people: an undercount is
harmless, an inflated count misleads the desk's priorities. Changing the User-Agent still makes
a new key, so the support throttle bounds what one address can add. An e-mail address does not
make the key: anyone can type any address, and only a confirmed one receives mail
(signalements.confirmation).

The key is an HMAC of the server's secret, per report: the address cannot be read back from the
database, and one person's supports of different reports cannot be linked.
"""

from django.utils.crypto import salted_hmac

from .throttles import client_ip


def supporter_key(request, reference: str) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        who = f"user:{user.pk}"
    else:
        who = f"client:{client_ip(request) or ''}:{request.META.get('HTTP_USER_AGENT', '')[:300]}"
    return salted_hmac("signalements.support", f"{who}:{reference}", algorithm="sha256").hexdigest()
