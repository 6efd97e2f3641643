"""Before a run: a dead run's executions are closed as abandoned and its partial outputs
deleted; the serving folder is squared with the store; a store that vanished beside its
artifacts is refused."""

from __future__ import annotations

import pathlib

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from metadata import names
from metadata.reader import MetadataReader
from metadata.store import open_store
from pipeline.config import config_from_dict
from pipeline.recovery import QUARANTINE, StoreMissing, check_store, repair, served_state
from tests.conftest import small_config_dict
from tests.unit.metadata.store_builder import StoreBuilder


@pytest.fixture
def config(tmp_path):
    (tmp_path / "data" / "span-1").mkdir(parents=True)
    return config_from_dict(small_config_dict(tmp_path, tmp_path / "data"), tmp_path / "c.yaml")


def _killed_during_transform(config, builder=None) -> tuple[int, pathlib.Path]:
    """A run whose ExampleGen completed and whose Transform was running when it died."""
    builder = builder or StoreBuilder(config.metadata_path)
    run = builder.run("2026-11-29T10:00:00")
    examples = builder.artifact(names.EXAMPLES, f"{config.pipeline_root}/CsvExampleGen/examples/1")
    builder.step(run, names.EXAMPLE_GEN, outputs={"examples": [examples]})
    transform = builder.step(run, names.TRANSFORM, pb.Execution.RUNNING)
    partial = config.pipeline_root / names.TRANSFORM / "transformed_examples" / str(transform)
    (partial / "Split-train").mkdir(parents=True)
    (
        config.pipeline_root / names.TRANSFORM / ".system" / "executor_execution" / str(transform)
    ).mkdir(parents=True)
    (config.pipeline_root / "CsvExampleGen" / "examples" / "1").mkdir(parents=True)
    for node in ("CsvExampleGen", names.TRANSFORM):
        (config.pipeline_root / node / ".system").mkdir(parents=True, exist_ok=True)
    return transform, partial


def test_a_dead_runs_execution_is_closed_as_abandoned_and_its_partial_output_deleted(config):
    transform, partial = _killed_during_transform(config)

    repairs = repair(config)

    assert repairs.abandoned == (f"Transform (execution {transform}, run 2026-11-29T10:00:00)",)
    assert not partial.exists()
    assert (config.pipeline_root / "CsvExampleGen" / "examples" / "1").is_dir()  # untouched
    view = MetadataReader(open_store(sqlite=config.metadata_path)).run("2026-11-29T10:00:00")
    assert view.nodes == {names.EXAMPLE_GEN: "complete", names.TRANSFORM: "abandoned"}
    assert repair(config).abandoned == ()  # closed once


def _served_1000(config, crashed_push: bool) -> tuple[StoreBuilder, pathlib.Path]:
    """Version 1000 pushed and recorded; then, if `crashed_push`, a run whose push died
    (its BlessedPusher execution left running)."""
    builder = StoreBuilder(config.metadata_path)
    run = builder.run("r1")
    recorded = config.serving_dir / "1000"
    pushed = builder.artifact(
        names.PUSHED_MODEL, "/p", pushed=1, pushed_version=1000, pushed_destination=str(recorded)
    )
    builder.step(run, names.PUSHER, outputs={"pushed_model": [pushed]})
    if crashed_push:
        builder.step(builder.run("r2"), names.PUSHER, pb.Execution.RUNNING)
    return builder, recorded


def test_after_a_crashed_push_staging_is_removed_and_the_unrecorded_version_quarantined(config):
    _, recorded = _served_1000(config, crashed_push=True)
    for version in ("1000", "1001"):
        (config.serving_dir / version).mkdir(parents=True)
        (config.serving_dir / version / "saved_model.pb").write_bytes(b"graph")
    (config.serving_dir / ".tmp-0f0f").mkdir()
    assert served_state(config.serving_dir, {str(recorded)}) == "1000,1001"

    repairs = repair(config)

    assert repairs.quarantined == ("1001",)
    assert repairs.removed == (str(config.serving_dir / ".tmp-0f0f"),)
    assert sorted(p.name for p in config.serving_dir.iterdir()) == [QUARANTINE, "1000"]
    assert (config.serving_dir / QUARANTINE / "1001" / "saved_model.pb").exists()
    assert served_state(config.serving_dir, {str(recorded)}) == "1000"
    (config.serving_dir / "1000").rename(config.serving_dir / "deleted")
    assert served_state(config.serving_dir, {str(recorded)}) == "; gone 1000"
    assert any("1001" in line and QUARANTINE in line for line in repairs.lines())


def test_unrecorded_versions_stay_unless_a_push_died_and_then_only_newer_ones(config):
    """A version pushed by another store, or older than the newest recorded one, is not
    what a crash between rename and record leaves: it stays served."""
    builder, _ = _served_1000(config, crashed_push=False)
    for version in ("999", "1000", "1001"):
        (config.serving_dir / version).mkdir(parents=True)
    assert repair(config).quarantined == ()
    assert versions_in(config.serving_dir) == ["1000", "1001", "999"]

    (config.serving_dir / QUARANTINE / "1001").mkdir(parents=True)  # an earlier quarantine
    builder.step(builder.run("r2"), names.PUSHER, pb.Execution.RUNNING)
    assert repair(config).quarantined == ("1001",)
    assert versions_in(config.serving_dir) == ["1000", "999"]
    assert versions_in(config.serving_dir / QUARANTINE) == ["1001", "1001-again"]


def versions_in(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != QUARANTINE)


@pytest.mark.parametrize("store", ["missing", "empty"])
def test_a_store_gone_beside_earlier_artifacts_is_refused_in_one_line(config, store):
    (config.pipeline_root / "CsvExampleGen" / "examples" / "1").mkdir(parents=True)
    (config.pipeline_root / "CsvExampleGen" / ".system").mkdir()
    if store == "empty":
        config.metadata_path.write_bytes(b"")
    with pytest.raises(StoreMissing) as refused:
        check_store(config)
    message = str(refused.value)
    assert f"store is {store}" in message and str(config.pipeline_root) in message
    assert "CsvExampleGen" in message and "\n" not in message


def test_a_store_older_than_the_artifacts_is_refused(config):
    transform, _ = _killed_during_transform(config)
    check_store(config)  # the store knows every output folder
    later = config.pipeline_root / "CsvExampleGen" / "examples" / str(transform + 5)
    later.mkdir(parents=True)  # a run the restored copy does not know
    expected = (
        f"newest execution is {transform}, but .* outputs of execution {transform + 5}: "
        "the store is older than the artifacts"
    )
    with pytest.raises(StoreMissing, match=expected):
        check_store(config)


def test_a_first_run_needs_no_store(config):
    check_store(config)
    config.pipeline_root.mkdir(parents=True)  # made, but holding nothing yet
    check_store(config)
    assert repair(config).lines() == []


def test_store_check_names_what_is_left_running_gone_or_unrecorded(config, tmp_path):
    from pipeline.recovery import inspect

    builder = StoreBuilder(config.metadata_path)
    _killed_during_transform(config, builder)
    run = builder.run("r2")
    gone = builder.artifact(names.MODEL, str(tmp_path / "deleted-model"))
    builder.step(run, names.TRAINER, outputs={"model": [gone]})
    recorded = config.serving_dir / "1000"
    pushed = builder.artifact(
        names.PUSHED_MODEL, "/p", pushed=1, pushed_version=1000, pushed_destination=str(recorded)
    )
    builder.step(run, names.PUSHER, outputs={"pushed_model": [pushed]})
    (config.serving_dir / "1001").mkdir(parents=True)

    found = {(f.kind, f.subject.split(" (")[0].split(":")[0]) for f in inspect(config)}

    assert found == {
        ("LEFT_RUNNING", names.TRANSFORM),
        ("FILES_GONE", f"{names.MODEL} {gone.id}"),
        ("UNRECORDED_VERSION", str(config.serving_dir / "1001")),
        ("VERSION_GONE", str(recorded)),
    }


def test_store_check_finds_a_corrupt_file(config):
    from pipeline.recovery import inspect

    _killed_during_transform(config)
    data = bytearray(config.metadata_path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page of the file overwritten
    config.metadata_path.write_bytes(bytes(data))
    [finding, *_] = inspect(config)
    assert finding.kind == "CORRUPT" and str(config.metadata_path) in finding.subject


def test_a_backup_is_a_whole_store_and_never_overwrites(config, tmp_path):
    from metadata.store import MetadataError
    from pipeline.recovery import backup

    _killed_during_transform(config)
    copy = backup(config, tmp_path / "copy.sqlite")
    assert MetadataReader(open_store(sqlite=copy)).run_ids() == ["2026-11-29T10:00:00"]
    with pytest.raises(MetadataError, match="exists; choose a new file"):
        backup(config, copy)
