"""The dashboard, for every role: what came in, what the policy decided, how fast replies
went out, and what waits for review (``gateway.pipeline.dashboard`` decides what each role
sees; this page draws it)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from gateway.http.auth import ANY_ROLE, CurrentUser, Services, roles
from gateway.pipeline.dashboard import Dashboard, dashboard, window
from gateway.pipeline.errors import InvalidInput
from gateway.web.charts import Chart, grouped, per_day
from gateway.web.pages import page
from gateway.web.report_window import read_window

INTENTS = ("complaint", "question", "praise", "other")
SENTIMENTS = ("negative", "neutral", "positive")
OUTCOMES = ("allow", "review", "deny")


def duration(seconds: float | None) -> str:
    """A duration as a person reads it: 42 s, 7 min, 3 h 5 min, 2 d 4 h."""
    if seconds is None:
        return "no reply released in this period"
    whole = round(seconds)
    if whole < 90:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _charts(found: Dashboard) -> list[Chart]:
    charts = [
        per_day("intents", "Mentions per day, by intent", found.mentions_by_intent, order=INTENTS),
        per_day(
            "sentiments",
            "Mentions per day, by sentiment",
            found.mentions_by_sentiment,
            order=SENTIMENTS,
        ),
    ]
    outcomes = [o for o in OUTCOMES if o in found.decisions_by_outcome]
    charts.append(
        grouped(
            "outcomes",
            "Decisions by outcome",
            outcomes,
            {"decisions": [found.decisions_by_outcome[o] for o in outcomes]},
            axis="Outcome",
        )
    )
    if found.top_reasons is not None:
        for outcome in ("deny", "review"):
            top = [r for r in found.top_reasons if r.outcome == outcome]
            charts.append(
                grouped(
                    f"top-{outcome}",
                    f"Top {outcome} reasons",
                    [r.code for r in top],
                    {"decisions": [r.count for r in top]},
                    axis="Reason",
                )
            )
    return charts


class DashboardController(Controller):
    path = "/ui/dashboard"
    guards = (roles(*ANY_ROLE),)
    include_in_schema = False

    @get("/")
    async def show(
        self, request: Request[Any, Any, Any], user: CurrentUser, runtime: Services
    ) -> Template:
        values, since, until, errors = read_window(request)
        found = None
        if not errors:
            try:
                found = await dashboard(runtime.db.pool, user, window(since, until))
            except InvalidInput as error:
                errors.append(str(error))
        return page(
            request,
            "dashboard/index.html",
            status_code=400 if errors else 200,
            errors=errors,
            values=values,
            found=found,
            charts=_charts(found) if found else [],
            median=duration(found.median_release_seconds) if found else "",
        )
