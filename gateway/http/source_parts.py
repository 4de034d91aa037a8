"""The parts the source routes use (``SourceParts``), handed to them as ``sources: Sources``
(``gateway.http.auth.DEPENDENCIES``).

The app's lifespan builds them once from the runtime (with its secrets); an app may set its
own beforehand (tests do, to fake DNS). The dependency builds them on first use otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.runtime import Runtime
from gateway.secrets import Secrets
from gateway.sources.inbound import InboundWebhooks
from gateway.sources.service import SourceService


@dataclass(frozen=True)
class SourceParts:
    service: SourceService
    inbound: InboundWebhooks


def source_parts(runtime: Runtime, *, secrets: Secrets | None = None) -> SourceParts:
    box = secrets if secrets is not None else Secrets(runtime.settings)
    return SourceParts(
        service=SourceService(runtime.db.pool, box, runtime.settings),
        inbound=InboundWebhooks(runtime.db.pool, runtime.ingestor, box, runtime.settings),
    )
