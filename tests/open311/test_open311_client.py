"""A third-party Open311 client from PyPI (georeport) against the running server: it lists the
services, reads a request back, in JSON and XML. georeport cannot post (its README says so), and
the Python 2 clients `open311` and `three` do not run on Python 3.11: the request is posted with
`requests`, exactly as GeoReport v2 describes (form-encoded, api_key in the body)."""

import pytest
import requests
from django.contrib.auth import get_user_model
from georeport import GeoReport
from rest_framework.authtoken.models import Token

from signalements.models import Signalement
from tests.conftest import PLACE_SAINT_LAMBERT

LON, LAT = PLACE_SAINT_LAMBERT


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_pypi_open311_client_lists_services_posts_and_reads_back(live_server, liege, fmt):
    user, _ = get_user_model().objects.get_or_create(username="open311-app")
    key = Token.objects.get_or_create(user=user)[0].key
    client = GeoReport(f"{live_server.url}/open311/v2/", api_key=key, output_format=fmt)

    services = client.get_service_list()
    assert "nid-de-poule" in {service["service_code"] for service in services}
    definition = client.get_service_definition("nid-de-poule")
    assert definition["service_code"] == "nid-de-poule"

    posted = requests.post(
        f"{client.root_address}/requests.{fmt}",
        data={
            "api_key": client.api_key,
            "service_code": "nid-de-poule",
            "lat": LAT,
            "long": LON,
            "description": "Posté par un client Open311",
            "email": "client.open311@example.org",
        },
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    reference = Signalement.objects.get(channel="api").reference
    assert reference in posted.text

    request = client.get_service_request(reference)
    assert request["service_request_id"] == reference
    assert request["status"] == "open" and request["service_code"] == "nid-de-poule"
    assert request["description"] == "Posté par un client Open311"
    assert "client.open311@example.org" not in str(request)
    listed = client.get_service_requests(service_code="nid-de-poule", status="open")
    listed = [listed] if isinstance(listed, dict) else listed  # xmltodict: one item is not a list
    assert reference in {item["service_request_id"] for item in listed}
