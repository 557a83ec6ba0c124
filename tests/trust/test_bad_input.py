"""Bad input is refused with a 4xx and a message, never a server error, and stores nothing."""

import json
import struct
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from signalements.models import Comment, CrewUpdate, Photo, Signalement, StatusChange, Support
from tests.conftest import PLACE_SAINT_LAMBERT, point_geojson
from tests.factories import SignalementFactory


def _stored() -> tuple[int, int, int]:
    return Signalement.objects.count(), StatusChange.objects.count(), Photo.objects.count()


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height black pixels, written chunk by chunk: some kilobytes
    of file for 100 Mpx, without ever holding the image in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    # The size of the probe: under twice Pillow's limit as it was set, so it was decoded.
    return png_claiming(10_900, 10_900)


def test_a_png_claiming_100_megapixels_is_refused_by_the_api(client, liege, bomb):
    before = _stored()

    response = client.post(
        "/api/v1/signalements/",
        data={
            "category": "dechets",
            "photos": [SimpleUploadedFile("bomb.png", bomb, "image/png")],
            "location": json.dumps(point_geojson(*PLACE_SAINT_LAMBERT)),
        },
    )

    assert response.status_code == 400
    assert "mégapixels au plus" in json.dumps(response.json()["photos"], ensure_ascii=False)
    assert _stored() == before


@pytest.mark.parametrize(("url", "field"), [("/signaler/lieu/", "photo"), ("/signaler/probleme/", "photos")])
def test_a_png_claiming_100_megapixels_is_refused_by_the_citizen_form(client, liege, bomb, url, field):
    lon, lat = PLACE_SAINT_LAMBERT
    client.post("/signaler/lieu/", {"lon": lon, "lat": lat, "action": "continue"})
    before = _stored()

    response = client.post(
        url,
        {
            field: SimpleUploadedFile("bomb.png", bomb, "image/png"),
            "category": "dechets",
            "action": "continue",
        },
    )

    assert response.status_code == 200  # the step again, with the message beside the field
    assert "mégapixels au plus" in response.content.decode()
    assert _stored() == before


def test_a_thumbnail_is_not_made_from_an_image_with_too_many_pixels(bomb):
    from django.core.exceptions import ValidationError

    from signalements.photos import thumbnail_make

    with pytest.raises(ValidationError):
        thumbnail_make(bomb)


# Hole 8: each cause of a server error on bad input, as the probe found them.


def staff_client(username: str):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def token_client(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _clients(who: str):
    return Client() if who == "anonymous" else staff_client(who)


def _counts() -> tuple[int, ...]:
    return (*_stored(), Comment.objects.count(), Support.objects.count(), CrewUpdate.objects.count())


@pytest.fixture
def report(liege) -> Signalement:
    signalement = SignalementFactory()
    signalement.refresh_from_db()  # the tracking secret is the database's default
    return signalement


def _text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize(
    "path",
    [
        "/signalements/{ref}%00/",
        "/api/v1/signalements/{ref}%00/",
        "/api/v1/tracking/{token}%01/",
        "/suivi/{token}%00/",
        "/bureau/signalements/{ref}%1f/",
    ],
)
def test_a_control_character_in_the_path_is_a_400(report, who, path):
    response = _clients(who).get(path.format(ref=report.reference, token=report.tracking_token))

    assert response.status_code == 400
    assert "caractères de contrôle" in _text(response)


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("anonymous", "/api/v1/signalements/nearby/?lon=5.57&lat=50.64&category=%00"),
        ("anonymous", "/api/v1/signalements/?category=%00"),
        ("anonymous", "/api/v1/districts/?district=a%00"),
        ("agent", "/bureau/?category=%00"),
        ("agent", "/api/v1/desk/signalements/?team=%00"),
        ("crew-voirie", "/equipe/liege-voirie/?category=%00"),
        ("crew-voirie", "/api/v1/crew/liege-voirie/worklist/?category=%00"),
    ],
)
def test_a_control_character_in_the_query_string_is_a_400(liege, who, url):
    response = _clients(who).get(url)

    assert response.status_code == 400
    assert "caractères de contrôle" in _text(response)


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Token \x00"},  # the token was looked up with its NUL
        {"Idempotency-Key": "retry\x00"},
        {"Accept-Language": "fr\x01"},
    ],
)
def test_a_control_character_in_a_header_is_a_400_and_stores_nothing(liege, header):
    before = _counts()

    response = Client().post(
        "/api/v1/signalements/",
        data=json.dumps({"category": "dechets", "location": point_geojson(*PLACE_SAINT_LAMBERT)}),
        content_type="application/json",
        headers=header,
    )

    assert response.status_code == 400
    assert "caractères de contrôle" in response.json()["detail"]
    assert _counts() == before


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/api/v1/signalements/", {"category": "\x00", "location": "{}"}),
        ("/api/v1/tracking/{token}/comments/", {"text": "hello\x00"}),
        ("/api/v1/signalements/{ref}/supports/", {"client_key": "k\x00"}),
        ("/signaler/soutenir/{ref}/", {"email": "a\x00@example.org"}),
        ("/suivi/{token}/", {"text": "\x00"}),
    ],
)
def test_a_control_character_in_a_form_field_is_a_400_and_stores_nothing(report, url, data):
    before = _counts()

    response = Client().post(url.format(ref=report.reference, token=report.tracking_token), data)

    assert response.status_code == 400
    assert "caractères de contrôle" in _text(response)
    assert _counts() == before


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize(
    "body",
    [
        '{"text": "hello\\u0000"}',
        '{"text\\u0000": "hello"}',
        '{"text": "hello", "x": ["\\u0000"]}',
    ],
)
def test_a_nul_in_json_is_a_400_and_stores_nothing(report, who, body):
    before = _counts()

    response = _clients(who).post(
        f"/api/v1/tracking/{report.tracking_token}/comments/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert _counts() == before


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize(
    "bbox",
    ["nan,nan,nan,nan", "-inf,-inf,inf,inf", "1e400,0,1,1", "0,0,1", "a,b,c,d", "5,50,4,51", "0,-91,1,1"],
)
def test_a_bbox_that_is_not_four_finite_wgs84_numbers_is_a_400(liege, who, bbox):
    response = _clients(who).get(f"/api/v1/signalements/?bbox={bbox}")

    assert response.status_code == 400
    assert "Rectangle invalide" in response.json()["bbox"][0]


@pytest.mark.parametrize("bbox", ["nan,nan,nan,nan", "-inf,-inf,inf,inf", "1e400,0,1,1"])
def test_a_crew_list_with_a_bad_bbox_is_a_400_with_the_reason(liege, bbox):
    crew = staff_client("crew-voirie")

    page = crew.get(f"/equipe/liege-voirie/?bbox={bbox}")
    api = crew.get(f"/api/v1/crew/liege-voirie/worklist/?bbox={bbox}")
    export = crew.get(f"/equipe/liege-voirie/?bbox={bbox}&format=gpx")

    assert page.status_code == api.status_code == export.status_code == 400
    assert "Rectangle invalide" in _text(page)
    assert "Rectangle invalide" in api.json()["bbox"][0]
    assert "Rectangle invalide" in _text(export)


@pytest.mark.parametrize("date", ["2024-02-31", "99999-01-01", "0000-00-00"])
def test_an_impossible_date_in_the_crew_filters_is_a_400(liege, date):
    crew = staff_client("crew-voirie")

    page = crew.get(f"/equipe/liege-voirie/?deadline_before={date}")
    api = crew.get(f"/api/v1/crew/liege-voirie/worklist/?deadline_before={date}")

    assert page.status_code == api.status_code == 400
    assert "date valide" in _text(page)
    assert "date valide" in api.json()["deadline_before"][0]


@pytest.mark.parametrize("date", ["2024-02-31", "99999-01-01"])
def test_an_impossible_date_in_the_desk_filters_is_refused(liege, date):
    page = staff_client("agent").get(f"/bureau/?deadline_before={date}")
    api = token_client("agent").get(f"/api/v1/desk/signalements/?deadline_before={date}")

    assert page.status_code < 500
    assert "date valide" in _text(page)
    assert api.status_code == 400
    assert "date valide" in api.json()["deadline_before"][0]


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize(
    "query",
    [
        "created_after=2024-02-31",
        "created_after=99999-01-01",
        "created_before=9999-12-31T23:59:59-23:00",  # beyond year 9999 in UTC
        "created_after=0001-01-01T00:00:00%2B01:00",  # before year 1 in UTC
    ],
)
def test_an_impossible_date_in_the_api_filters_is_a_400(liege, who, query):
    response = _clients(who).get(f"/api/v1/signalements/?{query}")

    assert response.status_code == 400
    assert "date" in json.dumps(response.json(), ensure_ascii=False)


def test_an_offset_postgresql_does_not_take_is_read_in_utc(liege):
    # Python takes offsets up to 23:59, PostgreSQL up to 15:59: the instant is sent in UTC.
    response = Client().get("/api/v1/signalements/?created_before=2024-01-01T00:00:00-23:00")

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize("body", ["[]", '["text"]', '"text"', "1", "null", "true"])
def test_json_that_is_not_an_object_is_a_400(report, who, body):
    before = _counts()
    client = _clients(who)

    responses = [
        client.post(url, body, content_type="application/json")
        for url in (
            "/api/v1/signalements/",
            f"/api/v1/tracking/{report.tracking_token}/comments/",  # read .get() of whatever came
            f"/api/v1/signalements/{report.reference}/supports/",
        )
    ]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert all("doit être un objet" in r.json()["detail"] for r in responses)
    assert _counts() == before


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,  # Python's decoder: RecursionError
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"text": "x", "a": ' + "[" * 30 + "]" * 30 + "}",  # decodable, but deeper than the setting
    ],
)
def test_json_nested_too_deep_is_a_400(report, who, body):
    before = _counts()
    client = _clients(who)

    responses = [
        client.post(url, body, content_type="application/json")
        for url in ("/api/v1/signalements/", f"/api/v1/tracking/{report.tracking_token}/comments/")
    ]

    assert [r.status_code for r in responses] == [400, 400]
    assert all("trop profondément" in r.json()["detail"] for r in responses)
    assert _counts() == before


@pytest.mark.parametrize("text", [["a"], {"a": 1}, True])
def test_a_comment_that_is_not_text_is_a_400(report, text):
    before = _counts()

    response = Client().post(
        f"/api/v1/tracking/{report.tracking_token}/comments/",
        json.dumps({"text": text}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "text" in response.json()
    assert _counts() == before


@pytest.mark.parametrize("who", ["anonymous", "agent"])
@pytest.mark.parametrize(
    "location",
    [
        "SRID=99999;POINT(5.57 50.64)",
        {"type": "Point", "coordinates": [5.57, 50.64], "crs": {"type": "name", "properties": "x"}},
        {
            "type": "Point",
            "coordinates": [5.57, 50.64],
            "crs": {"type": "name", "properties": {"name": "EPSG:99999"}},
        },
    ],
)
def test_a_point_in_an_unknown_srid_is_a_400_on_the_location(liege, who, location):
    before = _counts()

    response = _clients(who).post(
        "/api/v1/signalements/",
        json.dumps({"category": "dechets", "location": location}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["location"]
    assert _counts() == before


def test_an_unknown_srid_is_named_in_the_message(liege):
    response = Client().post(
        "/api/v1/signalements/",
        json.dumps({"category": "dechets", "location": "SRID=99999;POINT(5.57 50.64)"}),
        content_type="application/json",
    )

    assert "SRID 99999" in response.json()["location"][0]


@pytest.mark.parametrize("choice", ["abc", "nan,nan", "1,2,3", "inf,0", "999,999"])
def test_a_forged_place_choice_is_refused_with_a_message(liege, choice):
    before = _stored()

    response = Client().post("/signaler/lieu/", {"place_choice": choice, "action": "continue"})

    assert response.status_code == 200  # the step again
    assert "Choisissez un lieu de la liste" in _text(response)
    assert _stored() == before


@pytest.mark.parametrize("channel", [["phone"], {"a": 1}])
def test_a_desk_registration_with_a_channel_that_is_not_text_is_a_400(liege, channel):
    before = _counts()

    response = token_client("agent").post(
        "/api/v1/desk/signalements/",
        {"channel": channel, "category": "dechets", "location": point_geojson(*PLACE_SAINT_LAMBERT)},
        format="json",
    )

    assert response.status_code == 400
    assert "channel" in response.json()
    assert _counts() == before


@pytest.mark.parametrize("district", ["²", "99999999999999999999999"])
def test_a_crew_list_with_a_strange_district_number_answers(liege, district):
    assert staff_client("crew-voirie").get(f"/equipe/liege-voirie/?district={district}").status_code == 200


@pytest.mark.parametrize("group", ["", "abc", "٣", "1.5"])
def test_a_duplicate_group_that_is_not_a_number_is_a_404_and_merges_nothing(liege, group):
    before = _counts()

    response = staff_client("agent").post("/bureau/doublons/", {"group": group, "action": "dismiss"})

    assert response.status_code == 404
    assert _counts() == before


def test_a_login_with_a_username_longer_than_any_account_is_refused_not_a_server_error(liege):
    from axes.models import AccessAttempt

    response = Client().post("/admin/login/", {"username": "a" * 300, "password": "x"})

    assert response.status_code == 200  # the form again, with its error
    assert AccessAttempt.objects.get().username == "a" * 255
