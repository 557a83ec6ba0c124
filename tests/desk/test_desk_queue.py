"""The desk's queue: search by reference, address, description and e-mail, closed reports, map."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from signalements.models import ReporterContact, Signalement
from signalements.selectors import signalements_queue, signalements_search
from tests.factories import SignalementFactory

User = get_user_model()


def user(name: str):
    return User.objects.get(username=name)


@pytest.fixture
def reports(liege):
    pothole = SignalementFactory(
        address="Boulevard d'Avroy 12, 4000 Liège",
        description="Nid-de-poule profond devant la boulangerie. Appelez-moi au 0470 12 34 56",
        public_description="Nid-de-poule profond devant la boulangerie. Appelez-moi au [numéro masqué]",
    )
    ReporterContact.objects.create(signalement=pothole, name="Jeanne", email="Jeanne.Dupont@example.be")
    closed = SignalementFactory(
        status="closed", address="Quai de la Batte 3", description="Tags sur le mur du quai"
    )
    resolved = SignalementFactory(status="resolved", address="Rue Léopold 8", description="Lampadaire éteint")
    other = SignalementFactory(address="Place Saint-Lambert", description="Déchets abandonnés")
    return {"pothole": pothole, "closed": closed, "resolved": resolved, "other": other}


def found(client, **params) -> str:
    response = client.get("/bureau/", params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("avroy", "pothole"),  # a word of the address, any case
        ("boulangerie", "pothole"),  # a word of the description
        ("boulang", "pothole"),  # the start of a word
        ("nid poule", "pothole"),  # every word must be there
        ("batte", "closed"),  # a closed report is found
        ("lampadaire", "resolved"),
        ("jeanne.dupont@EXAMPLE.be", "pothole"),  # the reporter's e-mail, any case
    ],
)
def test_an_agent_finds_a_report_by_address_description_or_email(client, reports, text, expected):
    client.force_login(user("agent"))
    page = found(client, q=text)
    for name, report in reports.items():
        assert (report.reference in page) is (name == expected), (name, text)


@pytest.mark.parametrize("typed", ["{ref}", "{ref_lower}", "{digits}", " {ref} "])
def test_a_reference_is_found_however_it_is_typed(client, reports, typed):
    client.force_login(user("agent"))
    closed = reports["closed"]
    text = typed.format(
        ref=closed.reference, ref_lower=closed.reference.lower(), digits=int(closed.reference[1:])
    )
    page = found(client, q=text)
    assert closed.reference in page
    assert reports["other"].reference not in page
    assert "1 signalement trouvé, ouvert ou non" in page


def test_a_reference_search_reads_the_unique_index(reports):
    queryset = signalements_search(
        Signalement.objects.all(), text=reports["closed"].reference, with_contacts=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: ask whether the index can answer
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "signalement_unique_reference" in plan


def test_the_text_search_reads_its_gin_indexes(reports):
    queryset = signalements_search(Signalement.objects.order_by(), text="avroy", with_contacts=True)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "signalement_public_words" in plan
    assert "signalement_private_words" in plan


@pytest.mark.parametrize("with_contacts", [True, False])
def test_a_common_word_is_read_by_date_with_the_same_results(monkeypatch, reports, with_contacts):
    """Found in many of the newest reports, a word is checked on each report walked by date
    (its stored words, not its text parsed again) rather than read from the GIN indexes first."""
    from signalements import selectors

    def search(text):
        found = signalements_search(
            Signalement.objects.order_by("-created_at"), text=text, with_contacts=with_contacts
        )
        return list(found.values_list("pk", flat=True)), str(found.query)

    rare = {text: search(text) for text in ("avroy", "nid poule", "boulang", "quai")}
    monkeypatch.setattr(selectors, "SEARCH_PROBE_COMMON", 1)
    for text, (pks, sql) in rare.items():
        assert "OFFSET 0" in sql
        common_pks, common_sql = search(text)
        assert "OFFSET 0" not in common_sql
        assert common_pks == pks, text
    # The private words only for the roles that may read contacts.
    assert bool(search("appelez 0470")[0]) is with_contacts


@pytest.mark.parametrize("username", ["planner", "crew-voirie"])
def test_a_role_without_contacts_cannot_search_by_email(client, reports, username):
    client.force_login(user(username))
    page = found(client, q="jeanne.dupont@example.be")
    assert "Votre rôle ne voit pas les coordonnées des citoyens" in page
    # The search is ignored: the open queue as without it, nothing singled out.
    assert "signalements trouvés" not in page and "signalement trouvé" not in page
    # Nor through the selector, nor by words of the private description.
    assert not signalements_search(
        Signalement.objects.all(), text="jeanne.dupont@example.be", with_contacts=False
    )
    assert not signalements_search(Signalement.objects.all(), text="0470 12", with_contacts=False)


def test_a_planner_searches_the_public_description(client, reports):
    client.force_login(user("planner"))
    page = found(client, q="boulangerie")
    assert reports["pothole"].reference in page
    page = found(client, q="0470 12")  # only in the private wording
    assert reports["pothole"].reference not in page
    assert "0 signalements trouvés, ouverts ou non" in page


@pytest.mark.parametrize(("status", "name"), [("closed", "Clôturé"), ("resolved", "Résolu")])
def test_a_closed_status_filter_finds_closed_reports(client, reports, status, name):
    client.force_login(user("agent"))
    page = found(client, status=status)
    assert reports[status].reference in page
    assert reports["pothole"].reference not in page
    assert f"1 signalement au statut « {name} »" in page
    assert "ouvert" not in page.split("<caption", 1)[1].split("</caption>", 1)[0]


def test_the_plain_queue_still_shows_open_reports_only(client, reports):
    client.force_login(user("agent"))
    page = found(client)
    assert "2 signalements ouverts" in page
    assert reports["closed"].reference not in page
    assert reports["resolved"].reference not in page


def test_a_crew_searches_only_its_teams_reports(client, reports):
    crew = user("crew-voirie")
    client.force_login(crew)
    mine = set(signalements_queue(crew, every_status=True).values_list("reference", flat=True))
    page = found(client, q="batte")
    assert (reports["closed"].reference in page) is (reports["closed"].reference in mine)


def test_the_map_names_categories_and_statuses_in_words(client, reports):
    client.force_login(user("agent"))
    data = client.get("/bureau/carte.geojson", {"q": "avroy"}).json()
    [feature] = data["features"]
    assert feature["id"] == reports["pothole"].reference
    assert feature["properties"]["category"] == reports["pothole"].category.name
    assert feature["properties"]["category"] != reports["pothole"].category.slug
    assert feature["properties"]["status_label"] == "Nouveau"
    client.cookies["django_language"] = "nl"
    data = client.get("/bureau/carte.geojson", {"q": "avroy"}, headers={"accept-language": "nl"}).json()
    assert data["features"][0]["properties"]["status_label"] != "Nouveau"


def test_the_desk_api_searches_alike_and_refuses_an_email_search_to_a_planner(client, reports):
    client.force_login(user("agent"))
    found = client.get("/api/v1/desk/signalements/", {"q": "batte"}).json()
    assert [row["reference"] for row in found["results"]] == [reports["closed"].reference]
    client.force_login(user("planner"))
    response = client.get("/api/v1/desk/signalements/", {"q": "jeanne.dupont@example.be"})
    assert response.status_code == 400
    assert list(response.json()) == ["q"]


def test_a_wide_listing_stops_counting_past_its_cap(client, reports, monkeypatch):
    from signalements.desk import views

    monkeypatch.setattr(views, "COUNT_CAP", 1)
    SignalementFactory(status="closed")
    client.force_login(user("agent"))
    page = found(client, status="closed")
    assert "plus de 1 signalements au statut « Clôturé »" in page
    page = found(client)  # the open queue still counts exactly
    assert "2 signalements ouverts" in page
