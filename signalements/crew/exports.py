"""A work list as GeoJSON, GPX 1.1 (waypoints and the route) and CSV."""

import csv
import io
import json
from xml.etree import ElementTree as ET

from .worklists import Stop

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _row(stop: Stop) -> dict:
    s = stop.signalement
    return {
        "number": stop.number,
        "reference": s.reference,
        "category": s.category.name,
        "status": s.get_status_display(),
        "priority": s.get_priority_display(),
        "address": s.address,
        "district": s.district.name if s.district else "",
        "deadline": s.deadline_at.isoformat() if s.deadline_at else "",
        "leg_m": round(stop.leg_m),
        "walk_min": stop.walk_min,
        "drive_min": stop.drive_min,
        "lon": round(s.location.x, 7),
        "lat": round(s.location.y, 7),
    }


def as_geojson(stops: list[Stop]) -> str:
    features = [
        {
            "type": "Feature",
            "id": stop.signalement.reference,
            "geometry": {
                "type": "Point",
                "coordinates": [round(stop.signalement.location.x, 7), round(stop.signalement.location.y, 7)],
            },
            "properties": {k: v for k, v in _row(stop).items() if k not in ("lon", "lat")},
        }
        for stop in stops
    ]
    if len(stops) > 1:
        features.append(
            {
                "type": "Feature",
                "id": "route",
                "properties": {"kind": "route"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(s.signalement.location.x, 7), round(s.signalement.location.y, 7)]
                        for s in stops
                    ],
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def as_gpx(stops: list[Stop], *, name: str) -> bytes:
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "signalements"})
    metadata = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    ET.SubElement(metadata, f"{{{GPX_NS}}}name").text = name

    def point(tag: str, parent, stop: Stop):
        s = stop.signalement
        element = ET.SubElement(
            parent, f"{{{GPX_NS}}}{tag}", {"lat": f"{s.location.y:.7f}", "lon": f"{s.location.x:.7f}"}
        )
        ET.SubElement(element, f"{{{GPX_NS}}}name").text = f"{stop.number}. {s.reference}"
        ET.SubElement(element, f"{{{GPX_NS}}}desc").text = f"{s.category.name} – {s.address}"
        return element

    for stop in stops:
        point("wpt", root, stop)
    route = ET.SubElement(root, f"{{{GPX_NS}}}rte")
    ET.SubElement(route, f"{{{GPX_NS}}}name").text = name
    for stop in stops:
        point("rtept", route, stop)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def as_csv(stops: list[Stop]) -> str:
    buffer = io.StringIO()
    rows = [_row(stop) for stop in stops]
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["number", "reference"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
