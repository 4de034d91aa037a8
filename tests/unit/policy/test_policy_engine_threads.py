"""A regorus engine may only be dropped on the thread that made it: a refused bundle
must not carry its engine to another thread inside the exception."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

import pytest

from gateway.policy import PolicyLoadError
from gateway.policy._regorus import compile_engine


async def test_a_refused_bundle_leaves_no_engine_behind() -> None:
    seen: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        for files in (
            {"a.rego": "package engagement\nx := {\n"},
            {"a.rego": "package engagement\nx := 1\n", "b.rego": "oops"},
        ):
            with pytest.raises(PolicyLoadError):
                await asyncio.to_thread(compile_engine, files, {})
            gc.collect()
    finally:
        sys.unraisablehook = previous
    assert [str(u.exc_value) for u in seen] == []
