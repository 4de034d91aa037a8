"""Benchmark: classification throughput on one core, short English mentions.

Run from the repository root: ``.venv/bin/python bench/classify.py``. Classifies short
English mentions (the English lines of tests/data/intent_eval.jsonl, median 45
characters) with ``Classifier.classify_many`` in this one thread and prints, for the
median and the best of seven rounds, mentions per second of CPU time
(``time.process_time``: the load of a shared machine counts less than in wall-clock time)
and of wall-clock time, plus the same for the whole labelled set (five languages and a
few others, which lingua detects). Issue 13 asks for at least 5,000 short English
mentions a second on one core; the script exits with status 1 below that.

The first call loads lingua's models for the languages it is asked about (about a second
per language); that happens once per process, before the timed rounds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from gateway.pipeline.classify import Classifier, ClassifyItem

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "intent_eval.jsonl"
TARGET = 5_000
ROUNDS = 7


def rates(classifier: Classifier, items: list[ClassifyItem], repeat: int) -> tuple[float, float]:
    """(CPU, wall) mentions per second over ``repeat`` passes through ``items``."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        classifier.classify_many(items)
    n = repeat * len(items)
    return n / (time.process_time() - cpu), n / (time.perf_counter() - wall)


def main() -> int:
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line]
    classifier = Classifier(["@acme"])
    english = [ClassifyItem(text=r["text"]) for r in rows if r["lang"] == "en"]
    everything = [ClassifyItem(text=r["text"]) for r in rows]
    classifier.classify_many(everything)  # load the models
    ok = True
    for name, items in (("short English mentions", english), ("whole labelled set", everything)):
        runs = [rates(classifier, items, max(1, 4_000 // len(items))) for _ in range(ROUNDS)]
        cpu = [c for c, _ in runs]
        wall = [w for _, w in runs]
        length = statistics.median(len(i.text) for i in items)
        print(
            f"{name} ({len(items)}, median {length:.0f} chars): "
            f"median {statistics.median(cpu):,.0f}/s CPU ({statistics.median(wall):,.0f}/s wall), "
            f"best {max(cpu):,.0f}/s CPU"
        )
        if name.startswith("short") and statistics.median(cpu) < TARGET:
            ok = False
    print(f"target: {TARGET:,} short English mentions/s on one core: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
