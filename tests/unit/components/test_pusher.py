"""Pushing writes a new numbered version atomically and never reuses a number."""

from __future__ import annotations

import pathlib

import pytest

from components.pusher import PushError, existing_versions, push_version, serving_version_of


@pytest.fixture
def model_dir(tmp_path) -> pathlib.Path:
    model = tmp_path / "model" / "Format-Serving"
    (model / "variables").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"graph")
    (model / "variables" / "variables.index").write_bytes(b"index")
    return model


def test_push_copies_the_model_into_a_version_directory(model_dir, tmp_path):
    serving = tmp_path / "serving"
    version, path = push_version(str(model_dir), str(serving), now=1000)
    assert version == 1000
    assert (pathlib.Path(path) / "saved_model.pb").read_bytes() == b"graph"
    assert (pathlib.Path(path) / "variables" / "variables.index").exists()
    assert sorted(p.name for p in serving.iterdir()) == ["1000"]  # no staging left behind


def test_two_pushes_in_the_same_second_get_different_versions(model_dir, tmp_path):
    serving = str(tmp_path / "serving")
    first, _ = push_version(str(model_dir), serving, now=1000)
    second, _ = push_version(str(model_dir), serving, now=1000)
    assert (first, second) == (1000, 1001)
    assert existing_versions(serving) == [1000, 1001]


def test_versions_only_grow_even_if_the_clock_goes_back(model_dir, tmp_path):
    serving = str(tmp_path / "serving")
    push_version(str(model_dir), serving, now=5000)
    version, _ = push_version(str(model_dir), serving, now=10)
    assert version == 5001


def test_a_failed_copy_leaves_no_version_and_no_partial_directory(tmp_path):
    serving = tmp_path / "serving"
    serving.mkdir()
    (serving / "7").mkdir()
    (serving / "7" / "saved_model.pb").write_bytes(b"old")
    with pytest.raises(PushError, match="not a SavedModel"):
        push_version(str(tmp_path / "does-not-exist"), str(serving), now=100)
    assert sorted(p.name for p in serving.iterdir()) == ["7"]
    assert (serving / "7" / "saved_model.pb").read_bytes() == b"old"


def test_non_numeric_entries_are_not_versions(tmp_path):
    (tmp_path / "12").mkdir()
    (tmp_path / ".tmp-abc").mkdir()
    (tmp_path / "README").write_text("x")
    assert existing_versions(str(tmp_path)) == [12]


def test_the_same_model_is_recognised_as_already_serving(model_dir, tmp_path):
    serving = str(tmp_path / "serving")
    assert serving_version_of(str(model_dir), serving) is None
    version, _ = push_version(str(model_dir), serving, now=1000)
    assert serving_version_of(str(model_dir), serving) == version
    (model_dir / "saved_model.pb").write_bytes(b"retrained graph")
    assert serving_version_of(str(model_dir), serving) is None


def test_on_object_storage_saved_model_pb_is_written_last(model_dir, monkeypatch):
    """TF Serving loads a version from its saved_model.pb: until that object exists there is
    nothing half-written to load. (`ram://` is TensorFlow's in-memory file system, a path with
    a scheme as gs:// is.)"""
    from tfx.dsl.io import fileio

    written = []
    copy = fileio.copy

    def recording_copy(source, destination, overwrite=False):
        written.append(destination)
        copy(source, destination, overwrite)

    monkeypatch.setattr(fileio, "copy", recording_copy)
    version, target = push_version(str(model_dir), "ram://serving", now=100)
    assert (version, target) == (100, "ram://serving/100")
    assert written[-1] == "ram://serving/100/saved_model.pb" and len(written) > 1
    assert existing_versions("ram://serving") == [100]
    assert push_version(str(model_dir), "ram://serving", now=100)[0] == 101
