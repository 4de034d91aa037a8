"""The time window a report covers: the dashboard's and the auditors' reports alike."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """``[since, until)``; ``gateway.pipeline.dashboard.window`` bounds its length."""

    since: datetime
    until: datetime
