"""Shell blocks of the worked examples in docs/, turned into one script a test can run.

Every fenced block whose info string starts with ``sh`` runs, in order, as one bash script
(``set -euo pipefail``), unless its info string also says ``norun`` (e.g. ```` ```sh norun ````
for ``./dev serve``, which never returns). ``curl`` inside the script fails on any HTTP error
status, so a worked example that stops working fails its test instead of printing a problem
document nobody reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


class Block(msgspec.Struct, frozen=True, kw_only=True):
    doc: str
    line: int  # 1-based line of the opening fence
    info: str
    code: str

    @property
    def runs(self) -> bool:
        words = self.info.split()
        return bool(words) and words[0] in {"sh", "bash", "shell"} and "norun" not in words[1:]


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, in order."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        found.append(
            Block(doc=path.name, line=i + 1, info=opening["info"].strip(), code="\n".join(body))
        )
        i = j + 1
    return found


_PRELUDE = """\
set -euo pipefail
# Any HTTP error status fails the example, with the server's problem document shown.
curl() { command curl --fail-with-body --show-error "$@"; }
"""


def script(path: Path) -> str:
    """The runnable blocks of ``path`` as one bash script, each announced on stderr."""
    parts = [_PRELUDE]
    for block in blocks(path):
        if block.runs:
            parts.append(f"echo '>>> {block.doc}:{block.line}' >&2\n{block.code}\n")
    return "\n".join(parts)
