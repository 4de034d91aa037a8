"""docs/console.md shows screenshots that exist (the browser tests write docs/console/)."""

from __future__ import annotations

import re

from tests.conftest import REPO


def test_every_screenshot_the_console_guide_shows_is_committed() -> None:
    text = (REPO / "docs" / "console.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\((console/[^)]+\.png)\)", text))
    assert shown, "docs/console.md shows no screenshot"
    missing = sorted(name for name in shown if not (REPO / "docs" / name).is_file())
    assert not missing, missing
    assert "## Screenshots" in text
