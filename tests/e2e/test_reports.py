"""Every run writes its page and the run history (the session's runs, tests/e2e/conftest.py),
and the pages render in a real headless Chromium with no console error and no network
request, the outcome, the gate's table, the histograms, the slice table, the curves, the steps
and the lineage visible, and for a model not blessed, why, against the version it lost to."""

from __future__ import annotations

import pathlib
import re

import pytest

from tests.browser import visit

PAGE_PARTS = [
    "#outcome",
    "#gate-table",
    "#numeric-charts svg",
    "#category-charts svg",
    "#quick-baseline",
    "#slice-table",
    "#curves svg",
    "#steps svg",
    "#lineage svg",
]
WHY_NOT = ["#why-not", "#moved"]  # a run not blessed, judged against the pushed one


def _page(runs, name: str) -> pathlib.Path:
    line = next(line for line in runs[name]["out"].splitlines() if line.startswith("report: "))
    return pathlib.Path(line.removeprefix("report: "))


def test_every_run_writes_its_page_and_the_history(runs):
    work = runs["metadata"].parent
    for name in ("fresh", "unchanged", "data_edited", "strict"):
        page = _page(runs, name)
        assert page.is_file() and page.parent == work / "reports"
        assert page.name == runs[name]["summary"].run.replace(":", "-") + ".html"
    index = (work / "reports" / "index.html").read_text()
    assert index.count("<tr>") == 1 + len(list((work / "reports").glob("2*.html")))


@pytest.mark.parametrize(
    "name, outcome",
    [("fresh", "pushed: Blessed and pushed as version"), ("strict", "not-blessed: Not blessed")],
)
def test_a_run_page_renders_in_a_real_browser_with_nothing_fetched(runs, tmp_path, name, outcome):
    parts = PAGE_PARTS + (WHY_NOT if name == "strict" else [])
    seen = visit(_page(runs, name), parts, tmp_path / f"{name}.png")
    assert seen.console_errors == [] and seen.requests == []
    assert seen.visible == {part: True for part in parts}
    assert seen.texts["#outcome"].startswith(outcome)
    assert "auc" in seen.texts["#slice-table"] and "overall" in seen.texts["#slice-table"]
    assert "span 1 · accepted" in seen.texts["#lineage svg"]
    assert re.search(r"auc 0\.\d{4} against ours 0\.\d{4}", seen.texts["#quick-baseline"])
    if name == "strict":  # the baseline named by the version it was pushed as
        before = [runs[n]["summary"].pushed_version for n in ("fresh", "data_edited")]
        pushed = max(v for v in before if v is not None)  # the latest blessed model
        assert f"baseline (version {pushed})" in seen.texts["#why-not"]
        assert f"baseline · version {pushed}" in seen.texts["#lineage svg"]
    assert seen.screenshot.stat().st_size > 10_000
    print(f"screenshot: {seen.screenshot}")


def test_the_history_page_renders_with_its_chart(runs, tmp_path):
    index = runs["metadata"].parent / "reports" / "index.html"
    seen = visit(index, ["#history svg", "#runs table"], tmp_path / "index.png")
    assert seen.console_errors == [] and seen.requests == []
    assert seen.visible == {"#history svg": True, "#runs table": True}
    assert "pushed" in seen.texts["#runs table"] and "not-blessed" in seen.texts["#runs table"]


def test_the_browser_check_sees_console_errors_and_requests(tmp_path):
    """The check above can fail: a page that logs an error and fetches is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><p id=x>hi</p><img src='http://127.0.0.1:9/x.png'>"
        "<script>console.error('broken')</script>"
    )
    seen = visit(bad, ["#x", "#missing"], tmp_path / "bad.png")
    assert seen.console_errors and "127.0.0.1:9" in " ".join(seen.requests)
    assert seen.visible == {"#x": True, "#missing": False}
