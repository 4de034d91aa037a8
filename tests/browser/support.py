"""Helpers for browser tests: the Chromium to use, accessibility checks, doc screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # git-ignored
DOC_SHOTS = REPO / "docs" / "console"
AXE = REPO / "gateway" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright downloads no browser here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser tests only 1"
# role key -> (name, role): two people for the roles with a two-person rule
PEOPLE: dict[str, tuple[str, str]] = {
    "agent": ("alice", "agent"),
    "agent2": ("bob", "agent"),
    "compliance": ("carol", "compliance"),
    "compliance2": ("dave", "compliance"),
    "auditor": ("erin", "auditor"),
    "admin": ("root", "admin"),
}
INSTALL_HINT = (
    "browser tests skipped: Chromium is not installed at /usr/bin/chromium; install it with "
    "`sudo apt-get install -y chromium` (Debian/Ubuntu) and run ./dev test again"
)


def chromium_missing() -> str | None:
    """Why browser tests cannot run here (None: they can)."""
    reason = os.environ.get("GATEWAY_BROWSER_SKIP")
    if reason:
        return reason
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return INSTALL_HINT
    return None


async def assert_accessible(page: Any, *, context: str = "") -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        lines = [
            f"{v['impact']}: {v['id']}: {v['help']} "
            f"({'; '.join(n['target'][0] if n['target'] else '?' for n in v['nodes'][:5])})"
            for v in bad
        ]
        where = context or page.url
        raise AssertionError(f"accessibility violations on {where}:\n" + "\n".join(lines))


async def doc_shot(page: Any, name: str) -> Path | None:
    """Save ``docs/console/<name>.png`` when GATEWAY_DOC_SHOTS=1 (else nothing)."""
    if os.environ.get("GATEWAY_DOC_SHOTS") != "1":
        return None
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    path = DOC_SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
