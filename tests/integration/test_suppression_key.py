"""The gateway refuses to start with a key that cannot recognise stored suppressions.

Suppression records are HMACs of erased customers' identities under a key derived from the
gateway key. Started with another key (a container without the key file, a lost
GATEWAY_SECRET_KEY), new mentions from erased customers would no longer match them and
could be answered; so the gateway fails closed at start, saying which setting to fix.
"""

from __future__ import annotations

import base64
import os

import msgspec
import pytest

from gateway.audit.subjects import erase_subject
from gateway.audit.suppression import SuppressionKeyChanged
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.integration.support import COMPLAINT, ingest_one, make_user


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def test_start_refuses_a_key_that_cannot_recognise_suppressions(settings: Settings) -> None:
    first = msgspec.structs.replace(settings, secret_key=_key())
    runtime = await Runtime.start(first)
    try:
        officer = await make_user(runtime, "carol", "compliance")
        await ingest_one(runtime, COMPLAINT, handle="@sam@social.example")
        async with runtime.db.pool.acquire() as conn:
            await erase_subject(
                conn,
                channel="demo",
                handle="sam@social.example",
                by=officer.name,
                keys=runtime.suppression_keys,
            )
    finally:
        await runtime.close()

    with pytest.raises(SuppressionKeyChanged, match="GATEWAY_SECRET_KEY"):
        await Runtime.start(msgspec.structs.replace(settings, secret_key=_key()))

    again = await Runtime.start(first)  # the right key still starts
    await again.close()


async def test_a_new_database_starts_with_any_key(settings: Settings) -> None:
    runtime = await Runtime.start(msgspec.structs.replace(settings, secret_key=_key()))
    await runtime.close()
