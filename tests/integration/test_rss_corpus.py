"""feedparser's own test corpus through the RSS connector: no crash, no hang, clean mentions.

The corpus ships in feedparser's sdist (``tests/``: about 2,250 feeds, well-formed and
ill-formed, in many encodings, plus compressed bodies). It is downloaded once, for the
installed feedparser version, with ``pip download`` into ``.cache/feedparser-corpus/``
(git-ignored) and reused from there. It is never committed.

Every file goes through ``parse_feed``; a sample (every tenth feed, plus the HTTP and
compression cases) goes through ``RssSource.fetch`` over ``httpx.MockTransport``, served
with the headers the corpus file asks for. Each outcome must be a result or one of our
errors; each feed must finish within ``PER_FEED_S``; every mention must be well-formed.
Without network access on the first run the test fails, saying so: a corpus test that
skips itself would hide that it never ran.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
import msgspec
import pytest

from connectors.contract import Batch, ConnectorError, RawMention
from connectors.rss import DEFAULT_MAX_TEXT_CHARS, FeedError, ParsedFeed, RssSource, parse_feed

REPO = Path(__file__).resolve().parents[2]
VERSION = importlib.metadata.version("feedparser")
CACHE = REPO / ".cache" / "feedparser-corpus" / VERSION
PER_FEED_S = 5.0
TOTAL_S = 300.0
DOWNLOAD_S = 300.0
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):\s*(.+?)\s*$", re.MULTILINE)

T = TypeVar("T")


@pytest.fixture(scope="module")
def corpus() -> Path:
    """The corpus folder (feedparser's ``tests/``), downloaded on first use."""
    done = CACHE / "complete"
    if not done.exists():
        _download(CACHE)
    return CACHE / "tests"


def _download(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as scratch:
        work = Path(scratch)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--disable-pip-version-check",
            f"feedparser=={VERSION}",
            "-d",
            str(work / "sdist"),
        ]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"downloading the feedparser corpus took over {DOWNLOAD_S:g} s")
        if run.returncode != 0:
            pytest.fail(
                "could not download feedparser's sdist for its test corpus "
                f"(needs the package index; or unpack feedparser-{VERSION}.tar.gz's tests/ "
                f"into {target}/tests and create {target}/complete):\n"
                + "\n".join((run.stdout + run.stderr).splitlines()[-15:])
            )
        [sdist] = (work / "sdist").glob("feedparser-*.tar.gz")
        staging = work / "corpus"
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if m.name.split("/")[1:2] == ["tests"]]
            tar.extractall(staging, members=members, filter="data")
        [root] = staging.iterdir()
        (root / "complete").write_text(f"feedparser {VERSION} sdist tests/\n")
        try:
            os.rename(root, target)
        except OSError:
            if not (target / "complete").exists():  # not a concurrent run that won the race
                raise


def _feeds(corpus: Path) -> list[Path]:
    return sorted(path for path in corpus.rglob("*") if path.is_file() and path.suffix != ".py")


def _bounded(work: Callable[[], T], label: str) -> tuple[T | BaseException, float]:
    """Run ``work`` in a daemon thread; fail the test if it takes longer than PER_FEED_S."""
    outcome: list[T | BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # reported by the caller, with the feed's name
            outcome.append(exc)

    started = time.perf_counter()
    thread = threading.Thread(target=run, daemon=True, name=f"corpus {label}")
    thread.start()
    thread.join(PER_FEED_S)
    if thread.is_alive():
        pytest.fail(f"{label}: still running after {PER_FEED_S:g} s")
    return outcome[0], time.perf_counter() - started


def _check_mention(mention: RawMention, label: str) -> None:
    strings = [
        mention.external_id,
        mention.text,
        mention.author.handle,
        mention.author.display_name,
        mention.url or "",
        mention.thread_id or "",
        mention.in_reply_to or "",
    ]
    assert mention.external_id.strip(), label
    assert mention.text.strip(), label
    assert mention.author.handle.strip(), label
    assert mention.author.handle == mention.author.handle.lower(), label
    assert _RFC3339.fullmatch(mention.created_at), (label, mention.created_at)
    datetime.fromisoformat(mention.created_at.replace("Z", "+00:00"))
    assert not _TAG.search(mention.text), (label, mention.text[:200])
    assert len(mention.text) <= DEFAULT_MAX_TEXT_CHARS, label
    assert mention.url is None or mention.url.startswith(("http://", "https://")), label
    for value in strings:
        assert not _CONTROL.search(value), (label, value[:200])
        value.encode("utf-8")  # no lone surrogates: the database would refuse them
    msgspec.json.encode(mention)


def _headers(content: bytes) -> dict[str, str]:
    """The response headers a corpus file asks for in its ``Header:`` lines (lower-cased)."""
    wanted = {"content-type", "content-location", "content-language", "etag", "last-modified"}
    headers = {}
    for name, value in _HEADER.findall(content[:2000]):
        key = name.decode("latin-1").strip().lower()
        if key in wanted:
            headers[key] = value.decode("latin-1")
    return headers


def test_every_corpus_feed_parses_without_crash_or_hang(corpus: Path) -> None:
    feeds = _feeds(corpus)
    assert len(feeds) > 2000, f"the corpus at {corpus} looks incomplete ({len(feeds)} files)"
    started = time.perf_counter()
    with_mentions = errors = mentions = 0
    slowest = (0.0, "")
    for path in feeds:
        label = str(path.relative_to(corpus))
        content = path.read_bytes()
        content_type = _headers(content).get("content-type")

        url = f"https://corpus.example/{label}"

        def work(
            content: bytes = content, url: str = url, content_type: str | None = content_type
        ) -> ParsedFeed:
            return parse_feed(content, url=url, content_type=content_type, now=NOW)

        outcome, took = _bounded(work, label)
        slowest = max(slowest, (took, label))
        if isinstance(outcome, FeedError):
            assert str(outcome).startswith(f"feed {url}: "), label
            errors += 1
            continue
        assert isinstance(outcome, ParsedFeed), f"{label}: {outcome!r}"
        assert not [w for w in outcome.warnings if w.startswith("entry")], (label, outcome)
        for mention in outcome.mentions:
            _check_mention(mention, label)
        with_mentions += bool(outcome.mentions)
        mentions += len(outcome.mentions)
    total = time.perf_counter() - started
    print(
        f"\nfeedparser {VERSION} corpus: {len(feeds)} files through parse_feed in {total:.1f} s; "
        f"{with_mentions} gave {mentions} mentions, {errors} FeedError, "
        f"{len(feeds) - with_mentions - errors} no mentions; "
        f"slowest {slowest[1]} {slowest[0] * 1000:.0f} ms"
    )
    assert total < TOTAL_S


def _serve(path: Path) -> Callable[[httpx.Request], httpx.Response]:
    content = path.read_bytes()
    headers = _headers(content)
    # As feedparser's own test server does: the compression cases' names say the encoding.
    if path.suffix == ".gz":
        headers["content-encoding"] = "gzip"
    elif path.suffix == ".z":
        headers["content-encoding"] = "deflate"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=content)

    return handler


def test_a_sample_of_the_corpus_through_rss_source(corpus: Path) -> None:
    feeds = _feeds(corpus)
    special = [p for p in feeds if p.parts[len(corpus.parts)] in ("http", "compression")]
    sample = sorted(set(feeds[::10] + special))
    outcomes = {"batches": 0, "errors": 0, "mentions": 0}
    decoded: set[str] = set()
    started = time.perf_counter()
    for path in sample:
        label = str(path.relative_to(corpus))

        def work(path: Path = path) -> tuple[Batch, Batch]:
            return asyncio.run(_fetch_twice(path))

        outcome, _ = _bounded(work, label)
        if isinstance(outcome, ConnectorError):
            assert str(outcome), label
            outcomes["errors"] += 1
            continue
        assert isinstance(outcome, tuple), f"{label}: {outcome!r}"
        first, second = outcome
        for mention in first.mentions:
            _check_mention(mention, label)
        # A restart with the stored cursor sees the same bytes: nothing is new.
        assert second.mentions == [], label
        outcomes["batches"] += 1
        outcomes["mentions"] += len(first.mentions)
        decoded.add(label)
    print(
        f"\nRssSource over {len(sample)} corpus files in {time.perf_counter() - started:.1f} s: "
        f"{outcomes}"
    )
    assert outcomes["batches"] > len(sample) // 2
    # Compressed bodies are decoded on the way in (both hold an empty Atom feed).
    assert {"compression/gzip.gz", "compression/deflate.z"} <= decoded


async def _fetch_twice(path: Path) -> tuple[Batch, Batch]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_serve(path))) as client:
        source = RssSource("https://corpus.example/feed", client, clock=lambda: NOW)
        first = await source.fetch(None)
        restarted = RssSource("https://corpus.example/feed", client, clock=lambda: NOW)
        return first, await restarted.fetch(first.cursor)
