"""A sandbox worker process, started by ``sandbox.Sandbox`` (``serve(MEMORY_MB)``).

Reads length-prefixed JSON jobs on stdin and writes one reply per job on stdout
(see ``_sandbox_jobs``), until stdin closes. It runs at a lower CPU priority (set by the
boot line, before any import: the serving process comes first). Before the first job it
turns off core dumps and caps its address space at what it uses after start-up plus
``MEMORY_MB``: a run that needs more fails (regorus aborts the process, Python raises
MemoryError) instead of taking the machine's memory. The parent enforces the wall-clock
limit by killing the process.
"""

from __future__ import annotations

import os
import resource
import struct
import sys
from typing import BinaryIO

from gateway.policy import _sandbox_jobs

_HEADER = struct.Struct(">I")
READY = b"ready"


def address_space_bytes() -> int:
    """The process's current virtual size (regorus alone reserves about 1 GiB)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb > 0:
        cap = address_space_bytes() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _write(stream: BinaryIO, frame: bytes) -> None:
    stream.write(_HEADER.pack(len(frame)) + frame)
    stream.flush()


def serve(memory_mb: int) -> None:
    # Frames use a private copy of stdout; fd 1 then points at stderr, so nothing a
    # library prints can corrupt the protocol.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    _limit(memory_mb)
    _write(out, READY)
    while True:
        header = _read(stdin, _HEADER.size)
        if header is None:
            return
        frame = _read(stdin, _HEADER.unpack(header)[0])
        if frame is None:
            return
        _write(out, _sandbox_jobs.handle(frame))
