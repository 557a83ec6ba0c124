"""Numbers that reach JavaScript or a URL are written the same in every language: a French or Dutch
page that wrote "50,6196" put the crew's depot 70 km away and its stops in one blob."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.test import Client

from cartography.models import Team
from signalements.models import Category
from signalements.web.draft import SESSION_KEY
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["fr", "nl", "en"]
# A value that is a number, or a list of them, in any locale's notation: "50.6196", "50,6196", "5;50,6".
NUMBERISH = re.compile(r"^-?\d[\d.,;\s-]*$")
DECIMAL_COMMA = re.compile(r"\d,\d")
DECIMAL_NUMBER = re.compile(r"-?\d+\.\d+")


class NumberAttributes(HTMLParser):
    """data-* attributes, hidden coordinate inputs and geo:/OSM links, with their values."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            if name.startswith("data-") and NUMBERISH.match(value.strip()):
                self.found.append((tag, name, value))
            if name == "href" and (value.startswith("geo:") or "openstreetmap.org" in value):
                self.found.append((tag, name, value))
        if tag == "input" and attributes.get("name") in ("lon", "lat") and attributes.get("value"):
            self.found.append((tag, attributes["name"], attributes["value"]))


def numbers_written(html: str) -> list[tuple[str, str, str]]:
    parser = NumberAttributes()
    parser.feed(html)
    return parser.found


def client_for(username: str, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies["django_language"] = language
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def map_pages(liege):
    """Every page with a map, with data that makes it write coordinates."""
    team = Team.objects.get(slug="liege-voirie")
    team.depot = Point(5.5702, 50.6196, srid=4326)
    team.save()
    pothole = Category.objects.get(slug="nid-de-poule")
    report = SignalementFactory(
        category=pothole, location=Point(PLACE_SAINT_LAMBERT[0] + 0.002, PLACE_SAINT_LAMBERT[1], srid=4326)
    )
    return [
        ("crew-voirie", "/equipe/liege-voirie/", 'data-depot-lat="'),
        ("crew-voirie", "/equipe/liege-voirie/?format=print", None),
        ("crew-voirie", f"/equipe/liege-voirie/{report.reference}/", "geo:"),
        ("agent", "/bureau/", 'data-lat="'),
        ("agent", "/bureau/nouveau/", None),
        ("admin", "/admin/signalements/signalement/", None),
        (None, "/", None),
        (None, "/signaler/lieu/", None),
        (None, "/signaler/deja-signale/", 'class="candidate" data-lon="'),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_number_reaches_javascript_or_a_url_with_a_decimal_comma(map_pages, language):
    checked = 0
    for username, url, expected in map_pages:
        client = client_for(username, language) if username else Client(HTTP_ACCEPT_LANGUAGE=language)
        if url.startswith("/signaler/"):
            client.cookies["django_language"] = language
            session = client.session
            lon, lat = PLACE_SAINT_LAMBERT[0] + 0.0021, PLACE_SAINT_LAMBERT[1]
            session[SESSION_KEY] = {
                "id": "draft",
                "photos": [],
                "lon": lon,
                "lat": lat,
                "category": "nid-de-poule",
            }
            session.save()
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, f"{url} is not in {language}"
        if expected:
            assert expected in html, url
        for tag, name, value in numbers_written(html):
            checked += 1
            if name == "href":
                # A comma separates the coordinates: each one must be written with a decimal point.
                rest = re.sub(r"%[0-9A-F]{2}", "", DECIMAL_NUMBER.sub("", value))
                assert not re.search(r"\d", rest), f"{url} ({language}): <{tag} {name}={value!r}>"
            else:
                assert not DECIMAL_COMMA.search(value), f"{url} ({language}): <{tag} {name}={value!r}>"
    assert checked >= 6


def test_the_depot_is_written_in_the_notation_javascript_reads(map_pages):
    html = client_for("crew-voirie", "fr").get("/equipe/liege-voirie/").content.decode()
    found = {name: value for _tag, name, value in numbers_written(html)}
    assert float(found["data-depot-lat"]) == pytest.approx(50.6196)
    assert float(found["data-depot-lon"]) == pytest.approx(5.5702)
