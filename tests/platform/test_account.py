"""Who is signed in, signing out, and the page of a refusal: in the site's layout, saying what the
person may do instead."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import include, path

from signalements.models import Category, Signalement
from tests.factories import SignalementFactory

User = get_user_model()


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("agent", "/bureau/"),
        ("agent", "/bureau/moderation/"),
        ("agent", "/bureau/nouveau/"),
        ("planner", "/bureau/statistiques/"),
        ("planner", "/bureau/doublons/"),
        ("crew-voirie", "/equipe/liege-voirie/"),
        ("agent", "/"),
    ],
)
def test_every_staff_page_shows_who_is_signed_in_and_a_logout_button(liege, username, url):
    page = signed_in(username).get(url).content.decode()

    assert f"Connecté : {username}" in page
    assert '<form action="/deconnexion/" method="post" class="account">' in page
    assert "Se déconnecter" in page


def test_an_anonymous_visitor_sees_no_account_block(client, liege):
    page = client.get("/").content.decode()

    assert "Se déconnecter" not in page and "Connecté" not in page


def test_logging_out_takes_a_post_and_ends_the_session(liege):
    client = signed_in("agent")

    assert client.get("/deconnexion/").status_code == 405  # a link or a prefetch logs no one out
    assert client.get("/bureau/").status_code == 200
    response = client.post("/deconnexion/")

    assert response.status_code == 302 and response.url == "/"
    assert client.get("/bureau/").status_code == 302  # to the login page


def test_the_refusal_page_of_a_planner_on_the_registration_form_says_what_to_do(liege):
    response = signed_in("planner").get("/bureau/nouveau/")

    assert response.status_code == 403
    page = response.content.decode()
    assert 'class="site-header"' in page  # the site's layout, not Django's bare "403 Forbidden"
    assert "<h1>Accès refusé</h1>" in page
    assert "Vous êtes connecté comme « planner »" in page
    assert '<a href="/bureau/">Aller à la file du bureau</a>' in page
    assert 'name="next" value="/admin/login/?next=/bureau/nouveau/"' in page


def test_a_crew_member_refused_the_desk_moderation_is_sent_to_the_work_list(liege):
    page = signed_in("crew-voirie").get("/bureau/moderation/").content.decode()

    assert '<a href="/equipe/">Aller à votre liste de travail</a>' in page


def test_a_refusal_from_the_policy_names_its_reason_and_changes_nothing(liege):
    report = SignalementFactory(category=Category.objects.get(slug="nid-de-poule"))
    status = report.status

    response = signed_in("planner").post("/bureau/", {"action": "acknowledge", "selected": report.reference})

    assert response.status_code == 403
    assert "Aller à la file du bureau" in response.content.decode()
    assert Signalement.objects.get(pk=report.pk).status == status


def refused(request):
    raise PermissionDenied("Votre rôle ne permet pas cette action.")


urlpatterns = [path("refuse/", refused), path("", include("config.urls"))]
handler403 = "signalements.views.permission_denied"


@pytest.mark.urls("tests.platform.test_account")
def test_a_permission_denied_with_a_message_shows_it_to_a_signed_out_visitor(client, liege):
    response = client.get("/refuse/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "Votre rôle ne permet pas cette action." in page
    assert '<a href="/">Aller à la page d&#x27;accueil</a>' in page
    assert 'href="/admin/login/?next=/refuse/"' in page


@pytest.mark.parametrize(
    ("language", "heading", "logout"),
    [("en", "Access denied", "Sign out"), ("nl", "Toegang geweigerd", "Afmelden")],
)
def test_the_refusal_page_and_the_account_block_speak_the_visitors_language(liege, language, heading, logout):
    page = (
        signed_in("planner").get("/bureau/nouveau/", headers={"Accept-Language": language}).content.decode()
    )

    assert f"<h1>{heading}</h1>" in page
    assert logout in page
