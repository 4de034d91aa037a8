"""The embedded PostgreSQL: started from the pgserver wheel in the gateway's data folder."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import structlog

from gateway.store.errors import Unavailable

log = structlog.get_logger(__name__)


def start_embedded(data_dir: Path) -> Any:
    """Start (or attach to) the PostgreSQL server whose files live in ``data_dir/pg``.

    Returns the pgserver handle; ``handle.get_uri()`` is the DSN. The server keeps running
    while any process that attached to it lives and is stopped when the last one exits.
    """
    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless for a socket dir.
            warnings.simplefilter("ignore")
            from pgserver import get_server  # type: ignore[attr-defined]  # untyped re-export

            server = get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        raise Unavailable(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}. "
            "Set DATABASE_URL to use an external PostgreSQL instead."
        ) from exc
    log.info("embedded_database_started", pgdata=str(pgdata))
    return server
