"""Benchmark: CPU time of the opt-out detector per mention.

Run from the repository root: ``python bench/opt_out_detect.py``. Prints the median and
the best of eleven rounds, in CPU microseconds per mention (``time.process_time``, so the
load of a shared machine counts less than in wall-clock time), over ten typical short
mentions and over the whole labelled set (tests/data/opt_out_requests.jsonl). To compare
two versions, run it on each (``git stash`` / a second worktree) one after the other.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from gateway.pipeline.opt_out_detect import detect_opt_out

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "opt_out_requests.jsonl"
TYPICAL = [
    "@acme my order #1234 still hasn't arrived, any update?",
    "@acme love the new flavour!!",
    "@acme stop messaging me",
    "@acme how do I unsubscribe from the newsletter?",
    "@acme la app no funciona desde ayer",
    "@acme wann kommt meine Bestellung?",
    "@acme merci pour la réponse rapide",
    "@acme não me mandem mais mensagens",
    "@acme I'll stop by the store tomorrow",
    "@acme the app won't stop crashing after the update",
]


def per_mention(detect: Callable[[str], object], texts: list[str], rounds: int) -> float:
    """CPU microseconds per mention over ``rounds`` passes through ``texts``."""
    start = time.process_time()
    for _ in range(rounds):
        for text in texts:
            detect(text)
    return (time.process_time() - start) / (rounds * len(texts)) * 1e6


def main() -> None:
    labelled = [json.loads(line)["text"] for line in DATA.read_text("utf-8").splitlines()]
    for name, texts in (("ten typical mentions", TYPICAL), ("labelled set", labelled)):
        rounds = max(1, 20_000 // len(texts))
        per_mention(detect_opt_out, texts, 1)  # warm the caches
        runs = [per_mention(detect_opt_out, texts, rounds) for _ in range(11)]
        print(
            f"{name} ({len(texts)}): median {statistics.median(runs):.1f} µs, "
            f"best {min(runs):.1f} µs CPU per mention"
        )


if __name__ == "__main__":
    main()
