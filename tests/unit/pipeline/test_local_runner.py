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


class _Config:
    def __init__(self, tmp_path):
        self.metadata_path = tmp_path / "store" / "metadata.sqlite"
        self.pipeline_root = tmp_path / "root"
        self.metadata_path.parent.mkdir(exist_ok=True)
        self.pipeline_root.mkdir(exist_ok=True)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("Error when executing query: cannot commit - no transaction is active"),
        OSError(28, "No space left on device"),
    ],
    ids=["sqlite-rolled-back", "enospc-without-a-path"],
)
def test_a_failure_on_a_full_disk_names_the_folder_that_filled(tmp_path, monkeypatch, error):
    import shutil

    from pipeline import local_runner

    config = _Config(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=4096))
    told = local_runner._told_as_disk_full(error, config)
    assert isinstance(told, OSError) and told.errno == 28
    assert told.filename == str(config.metadata_path.parent) and told.__cause__ is error


def test_the_same_failure_with_room_on_the_disk_is_left_as_it_is(tmp_path, monkeypatch):
    import shutil

    from pipeline import local_runner

    error = RuntimeError("cannot commit - no transaction is active")
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=10 << 30))
    config = _Config(tmp_path)
    assert local_runner._told_as_disk_full(error, config) is error
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=4096))
    bug = ValueError("a bug")
    assert local_runner._told_as_disk_full(bug, config) is bug  # a full disk does not hide it
