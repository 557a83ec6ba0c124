"""French first, with English and Dutch for every user-facing text."""

import polib
import pytest
from django.conf import settings


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_string_is_translated(language):
    catalogue = polib.pofile(str(settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"))

    assert catalogue.percent_translated() == 100
    assert not [e.msgid for e in catalogue.fuzzy_entries()]


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("fr", "Où est le problème ?"),
        ("en", "Where is the problem?"),
        ("nl", "Waar is het probleem?"),
    ],
)
def test_the_citizen_pages_speak_the_visitors_language(client, liege, language, heading):
    page = client.get("/signaler/lieu/", headers={"Accept-Language": language}).content.decode()

    assert heading in page
    assert f'<html lang="{language}">' in page
