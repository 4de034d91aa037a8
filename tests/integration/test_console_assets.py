"""The API docs and the console load every asset from the gateway itself (no CDN)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.settings import Settings
from gateway.web import STATIC_DIR
from tests.integration.sources_support import serving

_EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?(?:https?:)?//""", re.IGNORECASE)
_LOCAL = re.compile(r"""(?:src|href)=["'](/static/[^"']+)["']""")


async def test_the_schema_page_references_no_external_host(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))  # /schema needs no database
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/schema")
        assert page.status_code == 200
        html = page.text
        assert not _EXTERNAL.search(html), _EXTERNAL.search(html)
        assert "cdn" not in html.lower()
        assets = _LOCAL.findall(html)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets), html
        for asset in assets:
            answer = await client.get(asset)
            assert answer.status_code == 200, asset
            assert len(answer.content) > 0, asset


async def test_static_files_are_public_and_cannot_leave_the_static_folder(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        css = await client.get("/static/console.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
        htmx = await client.get("/static/vendor/htmx/htmx.min.js")
        assert htmx.status_code == 200
        escape = await client.get("/static/..%2f..%2fsettings.py")
        assert escape.status_code in (400, 404)


def test_every_vendored_asset_keeps_its_licence_and_version() -> None:
    vendor = STATIC_DIR / "vendor"
    names = sorted(p.name for p in vendor.iterdir() if p.is_dir())
    assert names == ["axe-core", "chartjs", "codemirror", "htmx", "pico", "swagger-ui"]
    docs = (Path(__file__).resolve().parents[2] / "docs" / "console.md").read_text()
    for name in names:
        files = {p.name for p in (vendor / name).iterdir()}
        assert any(f.upper().startswith("LICENSE") for f in files), name
        package, version = (vendor / name / "VERSION").read_text().strip().rsplit("@", 1)
        assert f"| `{name}` | `{package}` | {version} |" in docs, (name, package, version)
