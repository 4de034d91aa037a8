"""A source that never runs dry: the built-in catalogue, then generated posts.

The cursor is the position in an endless, deterministic stream (as a decimal string):
positions below ``len(CATALOGUE)`` are the hand-written posts, later ones are generated
from templates with a random generator seeded by ``(seed, position)``. So a given seed
and cursor always yield the same mentions, and a gateway that stores the cursor resumes
without repeats or gaps. ``created_at`` is relative to the injected clock at fetch time:
catalogue posts lie in the past (oldest first), generated posts are a few seconds old.

The stream is endless: every fetch returns ``batch_size`` mentions, never an empty batch.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from connectors.contract import Batch, PermanentError, RawAuthor, RawMention
from connectors.demo.catalogue import AUTHORS, CATALOGUE, FOLLOW_UPS, PRODUCTS, TEMPLATES

_CURSOR = re.compile(r"[0-9]{1,18}")
# Spacing of catalogue posts in the past, so the hand-written history spans about a day.
_CATALOGUE_SPACING = timedelta(minutes=37)
_FOLLOW_UP_SHARE = 0.15
_FOLLOW_UP_MAX_GAP = 6
_TEMPLATE_TEXTS = tuple(text for text, _ in TEMPLATES)
_TEMPLATE_WEIGHTS = tuple(weight for _, weight in TEMPLATES)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DemoSource:
    """A ``Source`` for demos and tests; no I/O.

    ``fetch(cursor)`` returns the ``batch_size`` mentions after ``cursor`` (``None``: from
    the start) and the cursor of the next batch. A cursor this source did not produce
    raises ``PermanentError``. ``clock`` must return aware datetimes (naive ones are taken
    as UTC).
    """

    def __init__(
        self,
        channel: str = "demo",
        *,
        seed: int = 0,
        batch_size: int = 5,
        brand_handle: str = "@acme",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.channel = channel
        self._seed = seed
        self._batch_size = batch_size
        self._brand = brand_handle
        self._clock = clock

    async def fetch(self, cursor: str | None) -> Batch:
        start = _parse_cursor(cursor)
        end = start + self._batch_size
        now = self._clock()
        mentions = [self._mention(position, now, end) for position in range(start, end)]
        return Batch(mentions=mentions, cursor=str(end))

    def _mention(self, position: int, now: datetime, end: int) -> RawMention:
        if position < len(CATALOGUE):
            return self._catalogue_mention(position, now)
        # Generated posts are seconds old, the newest last, so a batch reads in order.
        created_at = now - timedelta(seconds=end - 1 - position)
        return self._generated_mention(position, created_at)

    def _catalogue_mention(self, position: int, now: datetime) -> RawMention:
        entry = CATALOGUE[position]
        in_reply_to: str | None = entry.reply_to_brand_post
        thread_id: str | None = entry.reply_to_brand_post
        if entry.reply_to is not None:
            in_reply_to = _catalogue_id(entry.reply_to)
            thread_id = _catalogue_id(_catalogue_root(entry.reply_to))
        external_id = _catalogue_id(position)
        return RawMention(
            channel=self.channel,
            external_id=external_id,
            url=_url(entry.handle, external_id),
            author=RawAuthor(handle=entry.handle, display_name=entry.display_name),
            text=entry.text.replace("{brand}", self._brand),
            created_at=_rfc3339(now - _CATALOGUE_SPACING * (len(CATALOGUE) - position)),
            in_reply_to=in_reply_to,
            thread_id=thread_id,
            addressed=True if entry.reply_to_brand_post else None,
        )

    def _generated_mention(self, position: int, created_at: datetime) -> RawMention:
        rng = random.Random(f"{self._seed}:{position}")
        # The author is always the first draw, so a follow-up can recover its parent's.
        handle, display_name = rng.choice(AUTHORS)
        template = rng.choices(_TEMPLATE_TEXTS, weights=_TEMPLATE_WEIGHTS)[0]
        parent = self._follow_up_parent(position)
        in_reply_to = None
        if parent is not None:
            handle, display_name = self._generated_author(parent)
            template = rng.choice(FOLLOW_UPS)
            in_reply_to = self._generated_id(parent)
        text = template.format(
            brand=self._brand,
            product=rng.choice(PRODUCTS),
            order=rng.randint(4700, 9999),
            days=rng.randint(3, 30),
            pct=rng.choice((5, 10, 12, 15, 20)),
        )
        external_id = self._generated_id(position)
        return RawMention(
            channel=self.channel,
            external_id=external_id,
            url=_url(handle, external_id),
            author=RawAuthor(handle=handle, display_name=display_name),
            text=text,
            created_at=_rfc3339(created_at),
            in_reply_to=in_reply_to,
            thread_id=in_reply_to,  # a follow-up's parent is always a thread root
        )

    def _follow_up_parent(self, position: int) -> int | None:
        """The earlier generated root post this one follows up on, or ``None``."""
        rng = self._follow_up_rng(position)
        if rng is None:
            return None
        parent = position - rng.randint(1, _FOLLOW_UP_MAX_GAP)
        # Replies only hang under root posts, which keeps threads one level deep and
        # spares a recursive walk up the chain.
        return None if self._follow_up_rng(parent) is not None else parent

    def _follow_up_rng(self, position: int) -> random.Random | None:
        """The generator that places follow-up ``position``; ``None`` for a root post."""
        if position - _FOLLOW_UP_MAX_GAP < len(CATALOGUE):
            return None  # follow-ups only answer generated posts
        rng = random.Random(f"{self._seed}:{position}:follow-up")
        return rng if rng.random() < _FOLLOW_UP_SHARE else None

    def _generated_author(self, position: int) -> tuple[str, str]:
        return random.Random(f"{self._seed}:{position}").choice(AUTHORS)

    def _generated_id(self, position: int) -> str:
        return f"gen-{self._seed}-{position}"


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not _CURSOR.fullmatch(cursor):
        raise PermanentError(f"not a demo cursor: {cursor[:40]!r}")
    return int(cursor)


def _catalogue_id(position: int) -> str:
    return f"cat-{position + 1:04d}"


def _catalogue_root(position: int) -> int:
    parent = CATALOGUE[position].reply_to
    while parent is not None:
        position, parent = parent, CATALOGUE[parent].reply_to
    return position


def _url(handle: str, external_id: str) -> str:
    return f"https://demo.example/@{handle.removeprefix('@')}/{external_id}"
