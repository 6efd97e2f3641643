"""Error analysis on a real run: labels made random for one hour of the day (a slice the model
cannot learn) are named among the places its errors concentrate, in the run's summary and on its
page, and the hours left alone are not. (Credit-card trips, where the tippers are, are named
too: a model of 150 steps errs there most.)"""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.conftest import run_cli

ROWS = 3000
NOISY_HOUR = "19"  # the most frequent hour in these rows: about 65 eval examples


def _random_labels_at_the_noisy_hour(index: int, line: str) -> str:
    """Every other trip at that hour tips its whole fare, the rest nothing."""
    header = "pickup_community_area,fare,trip_start_month,trip_start_hour".split(",")
    cells = next(csv.reader(io.StringIO(line)))
    if cells[header.index("trip_start_hour")] != NOISY_HOUR or not cells[1]:
        return line
    cells[-1] = cells[1] if index % 2 else "0"  # tips: the last column
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    work = tmp_path_factory.mktemp("weak-slice")
    data = write_sample(work / "data", ROWS, edit=_random_labels_at_the_noisy_hour)
    config = write_config(small_config_dict(work, data.parent.parent), work / "c.yaml")
    code, out, err = run_cli("run", "--config", str(config))
    assert code == 0, err[-2000:]
    return out


def test_the_slice_with_random_labels_is_where_errors_concentrate(noisy):
    block = noisy.split("where errors concentrate", 1)[1].split("\n\n")[0]
    named = re.findall(r"^  (.+?=.+?): \d+ examples", block, flags=re.MULTILINE)
    hours = [n for n in named if n.startswith("trip_start_hour=")]
    assert hours == [f"trip_start_hour={NOISY_HOUR}"], block  # the others err alike, by chance


def test_the_page_lists_it_too(noisy):
    page = next(line for line in noisy.splitlines() if line.startswith("report: "))
    html = open(page.removeprefix("report: "), encoding="utf-8").read()
    weak = html.split("id=weak-slices>", 1)[1].split("</div>", 1)[0]
    assert f"trip_start_hour={NOISY_HOUR}" in weak
