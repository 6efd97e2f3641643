"""What a local run ended in, decided from what ML Metadata holds of it: a table of runs and
their outcomes (None: no outcome, the failure is re-raised as the bug it is)."""

from __future__ import annotations

import pytest

from pipeline.local_runner import result_of
from pipeline.outcome import Result
from tests.conftest import a_run_view

CASES = {
    "gate-stopped": (dict(gate_stopped=True), False, True, Result.STOPPED_AT_GATE),
    "gate-stopped-in-backfill": (dict(gate_stopped=True), True, True, Result.STOPPED_AT_GATE),
    "another-step-failed": (dict(blessed=True), False, True, None),
    "gate-crashed-after-accepting": (dict(gate_stopped=False), True, True, None),
    "checked-in": (dict(), True, False, Result.CHECKED_IN),
    "pushed": (dict(blessed=True, pushed_version=7), False, False, Result.PUSHED),
    "already-serving": (
        dict(blessed=True, already_serving_version=7),
        False,
        False,
        Result.ALREADY_SERVING,
    ),
    "not-blessed": (dict(blessed=False), False, False, Result.NOT_BLESSED),
    "blessed-but-neither-pushed-nor-serving": (dict(blessed=True), False, False, None),
    "no-evaluation-at-all": (dict(), False, False, None),
}


@pytest.mark.parametrize("name", CASES)
def test_a_run_ends_in_one_outcome_or_none(name):
    facts, data_only, failed, expected = CASES[name]
    assert result_of(a_run_view(**facts), data_only, failed) is expected
