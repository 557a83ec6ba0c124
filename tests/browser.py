"""Playwright driving Debian's Chromium, with axe-core injected from the local npm package."""

import os
from pathlib import Path

from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def axe_violations(page) -> list[dict]:
    """WCAG 2.1 A and AA violations on the page as it is now. axe-core is evaluated through the
    browser's protocol, which the page's Content Security Policy (no inline script) allows."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""",
        WCAG_AA,
    )


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching selector has the focus: reachable by keyboard alone."""
    page.wait_for_load_state("load")
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def small_targets(page, minimum: int = 44) -> list[tuple[str, str, int, int]]:
    """Links, buttons and fields on screen smaller than minimum × minimum CSS pixels. Links inside a
    sentence of the map's credits are exempt (WCAG 2.5.5 "inline")."""
    return [
        tuple(target)
        for target in page.evaluate(
            """(minimum) => Array.from(document.querySelectorAll(
                    "a[href], button, input:not([type=hidden]), select, textarea, summary"))
                .filter((e) => !e.closest(".leaflet-control-attribution"))
                .map((e) => [e, e.getBoundingClientRect()])
                .filter(([e, r]) => r.width > 0 && r.right > 0 && r.bottom > 0)
                .filter(([e, r]) => r.width < minimum || r.height < minimum)
                .map(([e, r]) => [e.tagName, (e.textContent || e.name || "").trim().slice(0, 40),
                                  Math.round(r.width), Math.round(r.height)])""",
            minimum,
        )
    ]


def shoot(page, name: str) -> None:
    """A full-page screenshot in var/screenshots/, named after the page's screen (page.screen)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.screen}.png"), full_page=True)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
