#!/usr/bin/env python3
"""Re-fetch the console's third-party browser assets into gateway/web/static/vendor/.

Each asset is a pinned npm package, fetched with ``npm pack`` (so npm's own registry
configuration applies; no host is named here), unpacked in a temporary folder, and only the
files listed below (and the package's licence files) are copied. Change a version here,
run ``python scripts/fetch_web_assets.py``, update the table in docs/console.md, run the
browser tests, commit.

    python scripts/fetch_web_assets.py            fetch every asset
    python scripts/fetch_web_assets.py htmx axe   fetch only these
    python scripts/fetch_web_assets.py --check    fail if a vendored file differs from the pin
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "gateway" / "web" / "static" / "vendor"

# name: (npm package, version, [files in the package to copy], [licence files])
ASSETS: dict[str, tuple[str, str, list[str], list[str]]] = {
    "htmx": (
        "htmx.org",
        "4.0.1",
        # htmx-guidance.md: htmx 4 in brief (attributes, events, SSE); not served by pages
        ["dist/htmx.min.js", "dist/htmx.js", "dist/ext/hx-sse.js", "dist/skills/htmx-guidance.md"],
        ["LICENSE"],
    ),
    "pico": ("@picocss/pico", "2.1.1", ["css/pico.min.css"], ["LICENSE.md"]),
    "chartjs": ("chart.js", "4.6.1", ["dist/chart.umd.min.js"], ["LICENSE.md"]),
    "codemirror": (
        "codemirror",
        "5.65.21",
        [
            "lib/codemirror.js",
            "lib/codemirror.css",
            "addon/mode/simple.js",
            "addon/edit/matchbrackets.js",
        ],
        ["LICENSE"],
    ),
    "axe-core": ("axe-core", "4.14.1", ["axe.min.js"], ["LICENSE", "LICENSE-3RD-PARTY.txt"]),
    "swagger-ui": (
        "swagger-ui-dist",
        "5.35.0",
        [
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "swagger-ui-standalone-preset.js",
            "favicon-32x32.png",
        ],
        ["LICENSE", "swagger-ui-bundle.js.LICENSE.txt"],
    ),
}


def _pack(package: str, version: str, work: Path) -> Path:
    done = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"npm pack {package}@{version} failed:\n{done.stderr}")
    tarball = work / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(work / "x", filter="data")
    return work / "x" / "package"


def fetch(name: str, *, check: bool) -> bool:
    package, version, files, licences = ASSETS[name]
    dest = VENDOR / name
    with tempfile.TemporaryDirectory(prefix="egw-assets-") as tmp:
        root = _pack(package, version, Path(tmp))
        ok = True
        for rel in [*files, *licences]:
            src = root / rel
            target = dest / Path(rel).name
            if check:
                if not target.exists() or not filecmp.cmp(src, target, shallow=False):
                    print(f"{name}: {target} differs from {package}@{version}/{rel}")
                    ok = False
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        if not check:
            (dest / "VERSION").write_text(f"{package}@{version}\n", encoding="utf-8")
            print(f"{name}: {package}@{version} -> {dest}")
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *ASSETS], metavar="NAME")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    results = [fetch(name, check=args.check) for name in (args.names or ASSETS)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
