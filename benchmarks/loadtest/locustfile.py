"""Citizens submitting reports while the public reads the map (run by benchmarks/loadtest/run.py).

Every accepted submission (201) is written to LOADTEST_ACCEPTED_FILE, one "reference email" a line,
for the runner to find in the database afterwards."""

import json
import os
import random
import uuid

from locust import HttpUser, between, events, task

# Around Liège's Place Saint-Lambert: inside the territory, in several districts and team zones.
CENTRE = (5.5714, 50.6455)
SPREAD = 0.012
ACCEPTED_FILE = os.environ.get("LOADTEST_ACCEPTED_FILE", "var/loadtest/accepted.txt")
_accepted: list[str] = []


def random_point() -> tuple[float, float]:
    return (CENTRE[0] + random.uniform(-SPREAD, SPREAD), CENTRE[1] + random.uniform(-SPREAD, SPREAD))


class Visitor(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        with self.client.get("/api/v1/categories/", name="GET categories", catch_response=True) as response:
            data = response.json() if response.status_code == 200 else []
            items = data.get("results", []) if isinstance(data, dict) else data
            self.categories = [category["slug"] for category in items]
            if not self.categories:
                response.failure(f"no categories ({response.status_code})")

    @task(2)
    def submit(self) -> None:
        if not self.categories:
            return
        email = f"loadtest-{uuid.uuid4().hex[:12]}@example.org"
        body = {
            "category": random.choice(self.categories),
            "location": {"type": "Point", "coordinates": list(random_point())},
            "description": "Signalement de test de charge",
            "contact_name": "Test de charge",
            "contact_email": email,
        }
        with self.client.post(
            "/api/v1/signalements/",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
            name="POST submission",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                _accepted.append(f"{response.json()['reference']} {email}")
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(4)
    def list_bbox(self) -> None:
        lon, lat = random_point()
        bbox = f"{lon - 0.01:.5f},{lat - 0.01:.5f},{lon + 0.01:.5f},{lat + 0.01:.5f}"
        self.client.get(f"/api/v1/signalements/?bbox={bbox}", name="GET list bbox")

    @task(1)
    def list_page(self) -> None:
        self.client.get("/api/v1/signalements/", name="GET list")

    @task(2)
    def nearby(self) -> None:
        if not self.categories:
            return
        lon, lat = random_point()
        category = random.choice(self.categories)
        self.client.get(
            f"/api/v1/signalements/nearby/?category={category}&lon={lon:.6f}&lat={lat:.6f}", name="GET nearby"
        )

    @task(1)
    def categories_list(self) -> None:
        self.client.get("/api/v1/categories/", name="GET categories")


@events.test_stop.add_listener
def write_accepted(**_kwargs) -> None:
    with open(ACCEPTED_FILE, "w") as out:
        out.write("\n".join(_accepted) + ("\n" if _accepted else ""))
