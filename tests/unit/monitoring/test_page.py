"""The monitor's page: self-contained HTML that states the verdict, lists each finding and
every figure, escapes what came from traffic, and is written whole."""

from __future__ import annotations

from components.validation import Measurement
from monitoring.measures import Quality
from monitoring.monitor import Alert, GroupReport, MonitorReport, VersionQuality, WindowReport
from monitoring.page import render, write_page


def _report(alerts=()) -> MonitorReport:
    group = GroupReport(
        version=7,
        role="live",
        predictions=300,
        judged=True,
        missing={"fare": 0.1},
        unseen={"payment_type": {"<script>": 4}},
        null_outputs=0,
        score_mean=0.31,
        score_shift=None,
        against_live=None,
        measurements=(Measurement("fare", "skew", "Jensen-Shannon divergence", 0.42, 0.2),),
    )
    window = WindowReport("2026-11-30T01:00:00Z", "2026-11-30T02:00:00Z", 60, 2, 2.5, 9.0, (group,))
    quality = VersionQuality(7, "live", Quality(150, 40, 0.81, None, 0.5), True)
    return MonitorReport(
        "taxi", window.start, window.end, 3600, (window,), (quality,), tuple(alerts), (), None
    )


def test_a_quiet_report_says_so_and_shows_every_figure():
    page = render(_report())
    assert "no finding; 300 predictions" in page
    assert "fare 10.0%" in page and "0.42" in page and "above" in page
    assert "<td class=na>n/a</td>" in page  # precision undefined, shown as such
    assert "&lt;script&gt; ×4" in page and "<script>" not in page
    assert "http" not in page and "<link" not in page  # nothing fetched


def test_each_finding_is_a_row_and_the_page_is_written_whole(tmp_path):
    alert = Alert("range", 7, "live", "quality", "auc", "QUALITY_DROP", "auc 0.81 against 0.91")
    path = write_page(tmp_path / "m" / "page.html", _report([alert]))
    page = path.read_text()
    assert "1 finding(s) above threshold" in page and "QUALITY_DROP" in page
    assert [p.name for p in path.parent.iterdir()] == ["page.html"]
