"""Chart specs: days by key pivoted into stacked series, and JSON safe inside <script>."""

from __future__ import annotations

from gateway.store.activity import DayCount
from gateway.web.charts import grouped, per_day
from gateway.web.dashboard import duration


def test_per_day_fills_missing_days_with_zero_in_the_given_order() -> None:
    chart = per_day(
        "x",
        "Mentions",
        [
            DayCount(day="2026-12-02", key="praise", count=1),
            DayCount(day="2026-12-01", key="complaint", count=3),
            DayCount(day="2026-12-02", key="complaint", count=2),
        ],
        order=("complaint", "question", "praise"),
    )
    assert chart.labels == ["2026-12-01", "2026-12-02"]
    assert [(s.label, s.data) for s in chart.datasets] == [
        ("complaint", [3, 2]),
        ("praise", [0, 1]),
    ]
    assert chart.has_data and chart.stacked


def test_a_label_cannot_close_the_script_element() -> None:
    chart = grouped("y", "Reasons", ["</script><b>x"], {"n": [1]}, axis="Reason")
    assert "</" not in chart.to_json() and "\\u003c/script" in chart.to_json()
    assert not grouped("z", "None", [], {}, axis="Reason").has_data


def test_durations_read_as_a_person_says_them() -> None:
    assert duration(None) == "no reply released in this period"
    assert duration(42.4) == "42 s"
    assert duration(7 * 60) == "7 min"
    assert duration(3 * 3600 + 5 * 60) == "3 h 5 min"
    assert duration(2 * 86400 + 4 * 3600) == "2 d 4 h"
