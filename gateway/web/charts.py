"""Charts for the console's dashboard and reports: one spec drawn twice.

A ``Chart`` is rendered by ``templates/dashboard/_charts.html`` as a table (always: it is
what a screen reader and a browser without JavaScript get) and, when JavaScript runs, as a
Chart.js canvas (``static/console-charts.js`` reads the spec from the JSON beside it).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from gateway.store.activity import DayCount


class Series(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    data: list[float]


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # unique on the page: the canvas, table and JSON ids derive from it
    title: str
    kind: str  # a Chart.js type: bar, line, doughnut
    labels: list[str]  # x axis (days, reviewers, outcomes)
    datasets: list[Series]
    stacked: bool = False
    axis: str = ""  # the heading of the table's first column (what the labels are)
    empty: str = "Nothing in this period."

    @property
    def has_data(self) -> bool:
        return any(value for series in self.datasets for value in series.data)

    def to_json(self) -> str:
        """For a ``<script type="application/json">``: no ``<`` can end the element."""
        return msgspec.json.encode(self).decode("utf-8").replace("<", "\\u003c")


def per_day(
    chart_id: str,
    title: str,
    counts: Iterable[DayCount],
    *,
    order: Iterable[str] = (),
    kind: str = "bar",
) -> Chart:
    """Days on the x axis, one stacked series per key (``order`` first, then the rest)."""
    rows = list(counts)
    days = sorted({c.day for c in rows})
    keys = list(dict.fromkeys([*order, *sorted({c.key for c in rows})]))
    keys = [k for k in keys if any(c.key == k for c in rows)]
    value = {(c.day, c.key): c.count for c in rows}
    return Chart(
        id=chart_id,
        title=title,
        kind=kind,
        labels=days,
        datasets=[Series(label=k, data=[value.get((d, k), 0) for d in days]) for k in keys],
        stacked=True,
        axis="Day (UTC)",
    )


def grouped(
    chart_id: str,
    title: str,
    labels: list[str],
    series: dict[str, list[float]],
    *,
    axis: str,
    kind: str = "bar",
) -> Chart:
    """One bar group per label, one bar per series."""
    return Chart(
        id=chart_id,
        title=title,
        kind=kind,
        labels=labels,
        datasets=[Series(label=name, data=values) for name, values in series.items()],
        axis=axis,
    )
