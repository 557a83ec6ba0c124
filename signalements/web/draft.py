"""The report being written by a citizen, kept in the session between steps, so that going back
never loses what was typed. Photos are cleaned on upload and kept as draft files."""

import uuid

from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from ..photos import CleanPhoto

SESSION_KEY = "signalement_draft"


class Draft:
    def __init__(self, session):
        self.session = session
        self.data: dict = session.get(SESSION_KEY) or {"id": uuid.uuid4().hex, "photos": []}

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def update(self, **values) -> None:
        self.data.update(values)
        self.session[SESSION_KEY] = self.data
        self.session.modified = True

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def location(self) -> Point | None:
        if self.get("lon") is None or self.get("lat") is None:
            return None
        return Point(self.data["lon"], self.data["lat"], srid=4326)

    @property
    def photos(self) -> list[str]:
        return list(self.data.get("photos", []))

    def photo_add(self, photo: CleanPhoto) -> None:
        name = default_storage.save(f"drafts/{self.id}/{uuid.uuid4().hex}.jpg", photo.content)
        self.update(photos=[*self.photos, name])

    def photo_remove(self, name: str) -> None:
        if name in self.photos:
            default_storage.delete(name)
            self.update(photos=[p for p in self.photos if p != name])

    def clean_photos(self) -> list[CleanPhoto]:
        photos = []
        for name in self.photos:
            with default_storage.open(name, "rb") as handle:
                photos.append(CleanPhoto(content=ContentFile(handle.read(), name="photo.jpg"), gps=None))
        return photos

    def clear(self) -> None:
        for name in self.photos:
            default_storage.delete(name)
        self.session.pop(SESSION_KEY, None)
        self.session.modified = True
