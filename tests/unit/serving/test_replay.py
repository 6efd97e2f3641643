"""`tfxp replay` refuses what it cannot use in one line, before sending anything."""

from __future__ import annotations

import socket

import pytest

from models.features import Label
from serving.examples import RequestSchema
from serving.replay import ReplayError, replay

LABEL = Label("big_tipper", "tips", "greater_than_fraction_of", 0.2, "fare")
REQUEST = RequestSchema({"fare": 3}, frozenset())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_server_is_one_line_after_a_bounded_wait(tmp_path):
    csv = tmp_path / "rows.csv"
    csv.write_text("fare,tips\n3.0,1.0\n")
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ReplayError, match="no server answers .* start `tfxp serve`"):
        replay(url, "taxi", csv, REQUEST, LABEL, wait_seconds=0.5)


@pytest.mark.parametrize(
    "feedback, batch, message",
    [(1.5, 1, "--feedback is a share of rows within 0..1"), (0.5, 0, "--batch must be >= 1")],
)
def test_a_bad_share_or_batch_is_refused(tmp_path, feedback, batch, message):
    with pytest.raises(ReplayError, match=message):
        replay("http://127.0.0.1:1", "taxi", tmp_path / "x.csv", REQUEST, LABEL, feedback, batch)
