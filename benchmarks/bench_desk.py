"""Nearby candidates (issue 3), duplicate clustering and the desk queue (issue 4), against baselines."""

from datetime import timedelta

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.process import web_process_tune
from signalements.desk.duplicates import duplicate_groups_propose
from signalements.models import OPEN_STATUSES, Category, DuplicateGroup, Signalement
from signalements.selectors import nearby_open_queryset

from .data import random_points, territory_get
from .measure import Figure, Report, Stopwatch, Target, percentiles, queryset_explain_ms

NEARBY_TARGET_MS = 5.0
NEARBY_SPEEDUP = 15
CLUSTER_TARGET_S = 10.0


def _dwithin_indexed(category: Category, location: Point):
    """The strongest plain query: `dwithin` on the indexed metric column, open statuses, the window
    as a date, nearest first (what a developer who knows GeoDjango writes)."""
    since = timezone.now() - timedelta(days=category.duplicate_window_days)
    here = location.transform(settings.METRIC_SRID, clone=True)
    return (
        Signalement.objects.filter(
            category=category,
            status__in=OPEN_STATUSES,
            created_at__gte=since,
            location_metric__dwithin=(here, D(m=category.duplicate_radius_m)),
        )
        .annotate(d=Distance("location_metric", here))
        .order_by("d")[:5]
    )


def _distance_filter(category: Category, location: Point):
    """The common way: a geodetic Distance on the WGS84 column, compared in Python's terms."""
    since = timezone.now() - timedelta(days=category.duplicate_window_days)
    return (
        Signalement.objects.filter(category=category, status__in=OPEN_STATUSES, created_at__gte=since)
        .annotate(d=Distance("location", location))
        .filter(d__lte=D(m=category.duplicate_radius_m))
        .order_by("d")[:5]
    )


def nearby_run(*, points: int, baseline_points: int, seed: int) -> Report:
    territory = territory_get()
    rng = np.random.default_rng(seed)
    categories = list(Category.objects.filter(is_active=True))
    # Half the citizens stand next to a problem already reported (a few metres away), half anywhere.
    open_rows = list(
        Signalement.objects.filter(status__in=OPEN_STATUSES).values_list("category_id", "location")
    )
    by_id = {c.pk: c for c in categories}
    queries = []
    for _ in range(points // 2):
        category_id, location = open_rows[int(rng.integers(len(open_rows)))]
        queries.append((by_id[category_id], Point(location.x + rng.normal(0, 0.0001), location.y, srid=4326)))
    for lon, lat in random_points(territory, points - len(queries), seed=seed):
        queries.append((categories[int(rng.integers(len(categories)))], Point(lon, lat, srid=4326)))
    # Shuffled, so that the baselines' first `baseline_points` have the same mix as the whole.
    queries = [queries[i] for i in rng.permutation(len(queries))]
    ours, hits = [], 0
    for category, location in queries:
        queryset = nearby_open_queryset(category=category, location=location)[:5]
        queryset_explain_ms(queryset)  # each side's query warmed once before it is timed
        ours.append(queryset_explain_ms(queryset))
        hits += bool(list(queryset))
    ours_same, dwithin, theirs = [], [], []
    for category, location in queries[:baseline_points]:
        for sink, queryset in (
            (ours_same, nearby_open_queryset(category=category, location=location)[:5]),
            (dwithin, _dwithin_indexed(category, location)),
            (theirs, _distance_filter(category, location)),
        ):
            queryset_explain_ms(queryset)
            sink.append(queryset_explain_ms(queryset))
    client = Client()
    api_ms = []
    for category, location in queries[: min(points, 300)]:
        with Stopwatch() as watch:
            response = client.get(
                "/api/v1/signalements/nearby/",
                {"category": category.slug, "lon": location.x, "lat": location.y},
            )
        assert response.status_code == 200, response.content[:300]
        api_ms.append(watch.seconds * 1000)
    report = Report("nearby")
    p50, p95 = percentiles(ours)
    (s50, s95), (d50, d95), (_, b95) = percentiles(ours_same), percentiles(dwithin), percentiles(theirs)
    same = f"same {len(ours_same):,} lookups"
    report.figures += [
        Figure(f"nearby candidates, DB execution p50, all {len(ours):,} lookups", p50, "ms"),
        Figure(
            f"nearby candidates, DB execution p95, all {len(ours):,} lookups",
            p95,
            "ms",
            target=Target(NEARBY_TARGET_MS),
        ),
        Figure(f"nearby candidates vs dwithin on its index, {same}, p50", s50, "ms", "dwithin, p50", d50),
        Figure(f"nearby candidates vs dwithin on its index, {same}, p95", s95, "ms", "dwithin, p95", d95),
        Figure(
            f"nearby candidates vs Distance filter, {same}, p95",
            s95,
            "ms",
            "Distance(...) <= radius, p95",
            b95,
            Target(NEARBY_SPEEDUP, on_ratio=True),
        ),
    ]
    a50, a95 = percentiles(api_ms)
    report.figures += [
        Figure("GET /api/v1/signalements/nearby/ p50", a50, "ms"),
        Figure("GET /api/v1/signalements/nearby/ p95", a95, "ms"),
    ]
    report.details = {
        "points": points,
        "baseline_points": baseline_points,
        "with_candidates": hits,
        "open_reports": len(open_rows),
    }
    report.notes.append(
        f"{points:,} lookups (half a few metres from an open report, half anywhere), "
        f"{hits:,} found candidates; the baselines and ours again on the same first {baseline_points:,} "
        "of the shuffled lookups, each query run once untimed before it is timed. "
        f"Open reports in the table: {len(open_rows):,}."
    )
    return report


def cluster_run(*, sample: int, seed: int) -> Report:
    open_count = Signalement.objects.filter(status__in=OPEN_STATUSES).count()
    DuplicateGroup.objects.all().delete()
    with Stopwatch() as watch:
        proposed = duplicate_groups_propose()
    DuplicateGroup.objects.all().delete()
    rng = np.random.default_rng(seed)
    ids = list(Signalement.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    chosen = Signalement.objects.filter(
        pk__in=[int(i) for i in rng.choice(ids, min(sample, len(ids)), replace=False)]
    )
    with Stopwatch() as naive:
        for report_ in chosen.select_related("category"):
            category = report_.category
            since = report_.created_at - timedelta(days=category.duplicate_window_days)
            (
                Signalement.objects.filter(category=category, status__in=OPEN_STATUSES, created_at__gte=since)
                .exclude(pk=report_.pk)
                .annotate(d=Distance("location", report_.location))
                .filter(d__lte=D(m=category.duplicate_radius_m))
                .exists()
            )
    naive_rate = min(sample, len(ids)) / naive.seconds
    report = Report("cluster")
    report.figures += [
        Figure(
            f"duplicate clustering over {open_count:,} open reports",
            watch.seconds,
            "s",
            target=Target(CLUSTER_TARGET_S),
        ),
        Figure(
            "clustering rate",
            open_count / watch.seconds,
            "reports/s",
            f"per-report Distance query, {min(sample, len(ids)):,}-report sample",
            naive_rate,
        ),
    ]
    report.details = {"open_reports": open_count, "groups_proposed": proposed}
    report.notes.append(f"{proposed:,} groups proposed; the naive rate is extrapolated from its sample.")
    return report


# Words for the search benchmark's addresses and descriptions: the bulk data has none. A street
# among 40 (about 25,000 reports each at 1M), a word among 30 in every description.
STREETS = [
    "Boulevard d'Avroy",
    "Rue Léopold",
    "Quai de la Batte",
    "Rue Saint-Gilles",
    "Place du Marché",
    "Rue Féronstrée",
    "Boulevard de la Sauvenière",
    "Rue des Guillemins",
    "Quai de Rome",
    "Rue Hors-Château",
    "Rue Puits-en-Sock",
    "Boulevard Frère-Orban",
    "Rue de Fétinne",
    "Quai Mativa",
    "Rue Grétry",
    "Rue Jonfosse",
    "Rue Louvrex",
    "Avenue Rogier",
    "Rue Sainte-Marguerite",
    "Rue du Laveu",
    "Rue Ernest Solvay",
    "Quai Godefroid Kurth",
    "Rue Vivegnis",
    "Rue Saint-Léonard",
    "Rue de Herve",
    "Rue Jean d'Outremeuse",
    "Rue Natalis",
    "Boulevard Kleyer",
    "Rue des Vennes",
    "Avenue de l'Observatoire",
    "Rue Saint-Séverin",
    "Rue Pont d'Avroy",
    "Rue de la Cathédrale",
    "Rue du Pot d'Or",
    "Rue Darchis",
    "Rue Lambert-le-Bègue",
    "Rue de Campine",
    "Rue Fond-Pirette",
    "Rue Sainte-Walburge",
    "Rue Bonne-Fortune",
]
WORDS = [
    "trottoir",
    "poubelle",
    "lampadaire",
    "graffiti",
    "nid-de-poule",
    "dépôt",
    "encombrants",
    "feuilles",
    "verglas",
    "arbre",
    "branche",
    "égout",
    "avaloir",
    "fuite",
    "signalisation",
    "panneau",
    "marquage",
    "vélo",
    "bus",
    "arrêt",
    "banc",
    "fontaine",
    "parc",
    "chantier",
    "bruit",
    "odeur",
    "rat",
    "pigeon",
    "tag",
    "éclairage",
]
TEXT_FILL_SQL = """
UPDATE signalements_signalement SET
    address = (%(streets)s::text[])[1 + id %% 40] || ' ' || (1 + id %% 150),
    description = 'Problème : ' || (%(words)s::text[])[1 + (id * 7) %% 30] || ' et '
                  || (%(words)s::text[])[1 + (id * 13) %% 30] || ' près du numéro ' || (1 + id %% 150),
    public_description = 'Problème : ' || (%(words)s::text[])[1 + (id * 7) %% 30] || ' et '
                  || (%(words)s::text[])[1 + (id * 13) %% 30] || ' près du numéro ' || (1 + id %% 150)
 WHERE address = ''
"""
CONTACT_FILL_SQL = """
INSERT INTO signalements_reportercontact
    (signalement_id, name, email, phone, show_name, wants_updates, language)
SELECT id, '', 'citoyen' || id || '@example.be', '', false, true, 'fr'
  FROM signalements_signalement WHERE id %% %(every)s = 0
ON CONFLICT DO NOTHING
"""


def _queue_text_fill() -> tuple[float, int]:
    """Addresses, descriptions and reporters' e-mails for every report, as a city has."""
    with Stopwatch() as watch, connection.cursor() as cursor:
        cursor.execute(TEXT_FILL_SQL, {"streets": STREETS, "words": WORDS})
        cursor.execute(CONTACT_FILL_SQL, {"every": 3})
        cursor.execute("SELECT count(*) FROM signalements_reportercontact")
        (contacts,) = cursor.fetchone()
        cursor.execute("VACUUM ANALYZE signalements_signalement")
        cursor.execute("VACUUM ANALYZE signalements_reportercontact")
    return watch.seconds, contacts


def _page_timings(client: Client, params: dict, requests: int) -> tuple[list[float], list[int], str]:
    timings, counts = [], []
    for _ in range(requests + 2):
        with CaptureQueriesContext(connection) as queries, Stopwatch() as watch:
            response = client.get("/bureau/", params)
        assert response.status_code == 200
        timings.append(watch.seconds * 1000)
        counts.append(len(queries))
    caption = response.content.decode().split('id="queue-caption">', 1)[1].split("</caption>", 1)[0]
    return timings[2:], counts, caption


def queue_run(*, requests: int) -> Report:
    """The queue page as it was (open reports) and with what came after it: a search by reference,
    e-mail, a street, words of the description, and a closed status, side by side."""
    web_process_tune()  # as config/wsgi.py tunes a served process
    fill_s, contacts = _queue_text_fill()
    client = Client()
    client.force_login(get_user_model().objects.get(username="agent"))
    one_team = client.get(
        "/bureau/",
        {
            "team": Signalement.objects.filter(status__in=OPEN_STATUSES)
            .values_list("team_id", flat=True)
            .first()
        },
    )
    assert one_team.status_code == 200
    middle = Signalement.objects.order_by("id").values_list("id", "reference")[
        Signalement.objects.count() // 2
    ]
    variants = [
        ("desk queue page (open reports)", {}),
        ("closed status filter", {"status": "closed"}),
        ("resolved status filter", {"status": "resolved"}),
        ("search: a reference", {"q": middle[1]}),
        ("search: a reporter's e-mail", {"q": f"Citoyen{middle[0] - middle[0] % 3 + 3}@example.be"}),
        ("search: a street (1 in 40)", {"q": "avroy"}),
        ("search: a word start (1 in 30)", {"q": "lampad"}),
        ("search: two words", {"q": "feuilles avaloir"}),
        ("search: a word and the closed status", {"q": "verglas", "status": "closed"}),
    ]
    # A crew member reads only its teams' reports: the walk by date for a common word, or for a
    # closed status, skips the other teams' rows before it meets a page.
    crew = Client()
    crew.force_login(get_user_model().objects.get(username="crew-proprete"))
    crew_variants = [
        ("search: a common word start (1 in 15)", {"q": "feuil"}),
        ("search: a word start (1 in 30)", {"q": "lampad"}),
        ("closed status filter", {"status": "closed"}),
    ]
    report = Report("queue")
    plain_p50 = plain_p95 = None
    counts_seen, captions = set(), {}
    for name, params in variants:
        timings, counts, caption = _page_timings(client, params, requests)
        counts_seen.update(counts)
        captions[name] = caption
        p50, p95 = percentiles(timings)
        if plain_p50 is None:
            plain_p50, plain_p95 = p50, p95
            report.figures += [
                Figure(f"{name}, server p50", p50, "ms"),
                Figure(f"{name}, server p95", p95, "ms"),
            ]
            continue
        report.figures += [
            Figure(f"{name}, server p50", p50, "ms", "open queue p50", plain_p50),
            Figure(f"{name}, server p95", p95, "ms", "open queue p95", plain_p95),
        ]
    as_agent = {}
    for name, params in crew_variants:
        agent_timings, _, _ = _page_timings(client, params, requests)
        as_agent[name] = percentiles(agent_timings)
    for name, params in crew_variants:
        timings, counts, caption = _page_timings(crew, params, requests)
        counts_seen.update(counts)
        captions[f"crew: {name}"] = caption
        (p50, p95), (agent_p50, agent_p95) = percentiles(timings), as_agent[name]
        report.figures += [
            Figure(f"as a crew, {name}, server p50", p50, "ms", "the same as an agent, p50", agent_p50),
            Figure(f"as a crew, {name}, server p95", p95, "ms", "the same as an agent, p95", agent_p95),
        ]
    open_count = Signalement.objects.filter(status__in=OPEN_STATUSES).count()
    report.details = {
        "queries_per_page": sorted(counts_seen),
        "open_reports": open_count,
        "contacts": contacts,
        "text_fill_s": round(fill_s, 1),
        "captions": captions,
    }
    report.notes.append(
        f"{sorted(counts_seen)} queries per page whatever the {open_count:,} open reports "
        "(the tests assert it does not grow with the rows). Before timing, every report got an "
        f"address and a description, and {contacts:,} an e-mail ({fill_s:.0f} s)."
    )
    return report
