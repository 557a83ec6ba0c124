"""Demo data that shows the product: ready-made replies, and a few reports with photos and a full
history, written through the same services as real ones (photos cleaned and thumbnailed, history
rows appended by the workflow). Every loader is idempotent: a second run adds nothing."""

import io
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from .desk.services import signalement_transition
from .intake.services import ReporterData, signalement_process, signalement_submit
from .models import Category, Channel, ResponseTemplate, Signalement, Status
from .photos import photo_clean


def response_templates_load(path: Path) -> int:
    """Create the replies of a JSON file, matched on title and category: edits made in the admin to
    a template's text are kept."""
    data = json.loads(path.read_text(encoding="utf-8"))
    categories = dict(Category.objects.values_list("slug", "pk"))
    created = 0
    for item in data["templates"]:
        _, new = ResponseTemplate.objects.get_or_create(
            title=item["title"],
            category_id=categories.get(item["category"]) if item.get("category") else None,
            defaults={"text": item["text"], "status": item.get("status", "")},
        )
        created += new
    return created


def demo_photo(label: str, colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)):
    """A small JPEG: a coloured picture with its label, cleaned like an upload."""
    image = Image.new("RGB", size, tuple(colour))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline=(255, 255, 255), width=6)
    draw.text((40, size[1] // 2), label, fill=(255, 255, 255), font_size=48)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return photo_clean(SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg"))


def showcase_load(path: Path, *, agent_username: str) -> int:
    """Reports of a JSON file, each submitted once (its idempotency key) and moved along its history
    by the demo agent. Returns how many were created."""
    data = json.loads(path.read_text(encoding="utf-8"))
    agent = get_user_model().objects.get(username=agent_username)
    created = 0
    for item in data["reports"]:
        key = f"demo-showcase-{path.stem}-{item['key']}"
        if Signalement.objects.filter(idempotency_key=key).exists():
            continue
        with transaction.atomic():
            signalement, _ = signalement_submit(
                category=Category.objects.get(slug=item["category"]),
                location=Point(item["lon"], item["lat"], srid=4326),
                description=item["description"],
                address=item["address"],
                channel=Channel.WEB,
                reporter=ReporterData(
                    name="Habitant de démonstration", email="", phone="", show_name=False, wants_updates=False
                ),
                photos=[demo_photo(label, colour) for label, colour in item["photos"]],
                idempotency_key=key,
            )
            for status, text in item["history"]:
                signalement_transition(
                    signalement=signalement, to_status=Status(status), author=agent, text=text, is_public=True
                )
        signalement_process(signalement_id=signalement.pk)
        created += 1
    return created
