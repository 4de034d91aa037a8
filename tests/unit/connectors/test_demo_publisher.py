"""The demo publisher: records each reply once, durably, and remembers keys across restarts."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.contract import OutgoingReply, PermanentError, Publisher, TransientError
from connectors.demo import DemoPublisher
from connectors.demo import publisher as publisher_module

NOW = datetime(2025, 3, 14, 9, 30, 5, 123000, tzinfo=UTC)


def _reply(key: str = "release-1", text: str = "Sorry about that, we're on it.") -> OutgoingReply:
    return OutgoingReply(
        channel="demo",
        idempotency_key=key,
        text=text,
        in_reply_to="cat-0001",
        in_reply_to_url="https://demo.example/@dana@social.example/cat-0001",
        recipient="@dana@social.example",
        thread_id=None,
        metadata={"proposal_id": 17},
    )


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_publish_records_one_json_line_and_returns_a_receipt(tmp_path: Path) -> None:
    path = tmp_path / "sent.jsonl"
    publisher = DemoPublisher(path, clock=lambda: NOW)
    receipt = await publisher.publish(_reply())
    assert receipt.channel == "demo"
    assert receipt.external_id.startswith("demo-")
    assert receipt.url == f"https://demo.example/replies/{receipt.external_id}"
    assert receipt.delivered_at == "2025-03-14T09:30:05.123Z"
    assert receipt.duplicate is False
    [line] = _lines(path)
    assert line["reply"]["text"] == "Sorry about that, we're on it."  # type: ignore[index]
    assert line["receipt"]["external_id"] == receipt.external_id  # type: ignore[index]
    assert [entry.receipt for entry in publisher.sent()] == [receipt]


async def test_same_key_again_returns_the_original_receipt_marked_duplicate(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sent.jsonl"
    publisher = DemoPublisher(path)
    first = await publisher.publish(_reply())
    again = await publisher.publish(_reply(text="a retry with other text"))
    assert again.duplicate is True
    assert again.external_id == first.external_id
    assert again.delivered_at == first.delivered_at
    assert len(_lines(path)) == 1
    assert len(publisher.sent()) == 1


async def test_idempotency_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sent.jsonl"
    first = await DemoPublisher(path).publish(_reply("k1"))
    await DemoPublisher(path).publish(_reply("k2"))

    reopened = DemoPublisher(path)
    assert [e.reply.idempotency_key for e in reopened.sent()] == ["k1", "k2"]
    again = await reopened.publish(_reply("k1"))
    assert again.duplicate is True
    assert again.external_id == first.external_id
    assert len(_lines(path)) == 2


async def test_distinct_keys_get_distinct_receipts() -> None:
    publisher = DemoPublisher(None)
    one = await publisher.publish(_reply("k1"))
    two = await publisher.publish(_reply("k2"))
    assert one.external_id != two.external_id
    assert len(publisher.sent()) == 2


async def test_concurrent_publishes_of_one_key_record_it_once(tmp_path: Path) -> None:
    path = tmp_path / "sent.jsonl"
    publisher = DemoPublisher(path)
    receipts = await asyncio.gather(*(publisher.publish(_reply()) for _ in range(10)))
    assert sum(not r.duplicate for r in receipts) == 1
    assert len({r.external_id for r in receipts}) == 1
    assert len(_lines(path)) == 1


async def test_concurrent_publishes_of_many_keys_write_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "sent.jsonl"
    publisher = DemoPublisher(path)
    await asyncio.gather(*(publisher.publish(_reply(f"k{i}", "x" * 5000)) for i in range(30)))
    keys = [line["reply"]["idempotency_key"] for line in _lines(path)]  # type: ignore[index]
    assert sorted(keys) == sorted(f"k{i}" for i in range(30))


async def test_torn_last_line_is_dropped_on_load(tmp_path: Path) -> None:
    path = tmp_path / "sent.jsonl"
    await DemoPublisher(path).publish(_reply("k1"))
    with path.open("ab") as file:
        file.write(b'{"reply": {"channel": "demo", "idempotency_key": "k2"')

    reopened = DemoPublisher(path)
    assert [e.reply.idempotency_key for e in reopened.sent()] == ["k1"]
    receipt = await reopened.publish(_reply("k2"))
    assert receipt.duplicate is False
    assert [line["reply"]["idempotency_key"] for line in _lines(path)] == ["k1", "k2"]  # type: ignore[index]


def test_a_corrupt_record_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "sent.jsonl"
    path.write_text("not json\n")
    with pytest.raises(PermanentError, match=r"sent\.jsonl:1"):
        DemoPublisher(path)


async def test_unwritable_file_is_a_transient_error(tmp_path: Path) -> None:
    publisher = DemoPublisher(tmp_path / "data" / "sent.jsonl")
    (tmp_path / "data").write_text("a file where the folder should be")
    with pytest.raises(TransientError):
        await publisher.publish(_reply())
    assert publisher.sent() == []


def test_unreadable_record_is_reported(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    with pytest.raises(PermanentError, match="cannot read"):
        DemoPublisher(tmp_path / "data" / "sent.jsonl")


async def test_unencodable_metadata_is_a_permanent_error(tmp_path: Path) -> None:
    reply = OutgoingReply(
        channel="demo",
        idempotency_key="k",
        text="hi",
        in_reply_to="cat-0001",
        in_reply_to_url=None,
        recipient="@dana@social.example",
        metadata={"when": object()},
    )
    with pytest.raises(PermanentError):
        await DemoPublisher(tmp_path / "sent.jsonl").publish(reply)


async def test_cancelled_publish_still_indexes_the_line_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sent.jsonl"
    started, release = threading.Event(), threading.Event()
    real_append = publisher_module._append

    def slow_append(target: Path, line: bytes) -> None:
        started.set()
        release.wait(5)
        real_append(target, line)

    monkeypatch.setattr(publisher_module, "_append", slow_append)
    publisher = DemoPublisher(path)
    task = asyncio.create_task(publisher.publish(_reply()))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task

    retry = await publisher.publish(_reply())
    assert retry.duplicate is True
    assert len(_lines(path)) == 1


def test_is_a_publisher() -> None:
    publisher: Publisher = DemoPublisher(None)  # mypy checks the protocol
    assert publisher.channel == "demo"
