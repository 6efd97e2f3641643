"""Pushing writes a new numbered version atomically and never reuses a number."""

from __future__ import annotations

import pathlib

import pytest

from components.pusher import PushError, existing_versions, push_version, serving_version_of


def _model_files(model: pathlib.Path) -> pathlib.Path:
    """A folder shaped like a SavedModel (its bytes are not a graph)."""
    (model / "variables").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"graph")
    (model / "variables" / "variables.index").write_bytes(b"index")
    return model


@pytest.fixture
def model_dir(tmp_path) -> pathlib.Path:
    return _model_files(tmp_path / "model" / "Format-Serving")


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


def _save(path: pathlib.Path, weight: float, output: str = "scores") -> pathlib.Path:
    """A real SavedModel: one weight, a serving signature with one named output."""
    import tensorflow as tf

    module = tf.Module()
    module.weight = tf.Variable(weight)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def serve(x):
        return {output: x * module.weight}

    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})
    return path


def test_the_same_model_is_recognised_as_already_serving(tmp_path):
    serving = str(tmp_path / "serving")
    model = _save(tmp_path / "model", 2.0)
    assert serving_version_of(str(model), serving) is None
    version, _ = push_version(str(model), serving, now=1000)
    assert serving_version_of(str(model), serving) == version
    assert serving_version_of(str(_save(tmp_path / "retrained", 3.0)), serving) is None


def test_the_same_weights_saved_again_are_the_same_model_whatever_saved_model_pb_holds(
    tmp_path,
):
    """A retrain after a comment-only edit writes equal weights; saved_model.pb differs by the
    names and counters TensorFlow generates for each save."""
    first, again = _save(tmp_path / "a", 2.0), _save(tmp_path / "b", 2.0)
    assert (first / "saved_model.pb").read_bytes() != (again / "saved_model.pb").read_bytes()
    serving = str(tmp_path / "serving")
    version, _ = push_version(str(first), serving, now=1000)
    assert serving_version_of(str(again), serving) == version


def test_a_changed_signature_is_a_new_model(tmp_path):
    serving = str(tmp_path / "serving")
    push_version(str(_save(tmp_path / "a", 2.0)), serving, now=1000)
    renamed = _save(tmp_path / "b", 2.0, output="probabilities")
    assert serving_version_of(str(renamed), serving) is None


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


def _run_pusher(model_dir, serving, judged_uri: str, blessed: int = 1, **parameters):
    """BlessedPusher's executor as TFX runs it, on artifacts made here."""
    from tfx.types import standard_artifacts

    from components.pusher import BlessedPusher

    model = standard_artifacts.Model()
    model.uri = str(model_dir.parent)  # <uri>/Format-Serving holds the SavedModel
    blessing = standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("blessed", blessed)
    blessing.set_string_custom_property("current_model", judged_uri)
    blessing.set_string_custom_property("current_model_id", "runs/r/artifacts/Trainer-model")
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(serving.parent / "pushed")
    executor = BlessedPusher.EXECUTOR_SPEC.executor_class()
    executor.Do(
        {"model": [model], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
        {"serving_dir": str(serving), **parameters},
    )
    return pushed


@pytest.fixture
def serving_model(tmp_path):
    """A Trainer-shaped model: <uri>/Format-Serving/saved_model.pb."""
    return _model_files(tmp_path / "Trainer" / "model" / "Format-Serving")


def test_a_blessing_for_this_model_is_pushed_whatever_its_id_says(serving_model, tmp_path):
    """On Kubeflow V2 the blessing's current_model_id is a resource name: the URI decides."""
    serving = tmp_path / "serving"
    pushed = _run_pusher(serving_model, serving, str(serving_model.parent))
    assert pushed.get_int_custom_property("pushed") == 1
    (version,) = serving.iterdir()
    assert (version / "variables" / "variables.index").read_bytes() == b"index"


def test_a_blessing_for_another_model_is_refused(serving_model, tmp_path):
    with pytest.raises(PushError, match="the blessing is for the model at"):
        _run_pusher(serving_model, tmp_path / "serving", "gs://elsewhere/Trainer/model")
    assert not (tmp_path / "serving").exists()


def test_a_model_that_is_not_blessed_is_not_pushed(serving_model, tmp_path):
    pushed = _run_pusher(serving_model, tmp_path / "serving", "whatever", blessed=0)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not (tmp_path / "serving").exists()


def test_a_version_without_saved_model_pb_is_not_served(tmp_path):
    from components.pusher import served_versions

    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "saved_model.pb").write_bytes(b"x")
    (tmp_path / "6" / "variables").mkdir(parents=True)  # a push that died midway
    assert existing_versions(str(tmp_path)) == [5, 6]
    assert served_versions(str(tmp_path)) == [5]


def test_a_version_name_taken_meanwhile_takes_the_next_number(model_dir, tmp_path, monkeypatch):
    """TensorFlow's file system says a rename target exists with its own error type."""
    import tensorflow as tf
    from tfx.dsl.io import fileio

    real_rename, calls = fileio.rename, []

    def rename(source, target, overwrite=False):
        calls.append(target)
        if len(calls) == 1:
            raise tf.errors.AlreadyExistsError(None, None, f"{target} exists")
        return real_rename(source, target, overwrite)

    monkeypatch.setattr(fileio, "rename", rename)
    version, path = push_version(str(model_dir), str(tmp_path / "serving"), now=1000)
    assert version == 1001 and calls[0].endswith("1000") and path.endswith("1001")


def test_a_model_of_older_spans_than_the_served_one_is_not_pushed(serving_model, tmp_path):
    serving = tmp_path / "serving"
    judged = str(serving_model.parent)
    older = _run_pusher(serving_model, serving, judged, span=2, served_span=4)
    assert older.get_int_custom_property("pushed") == 0
    assert older.get_int_custom_property("older_than_served_span") == 4
    assert not serving.exists()
    newer = _run_pusher(serving_model, serving, judged, span=4, served_span=4)
    assert newer.get_int_custom_property("pushed") == 1


def test_a_changed_serving_computation_with_equal_weights_is_a_new_model(tmp_path):
    import tensorflow as tf

    serving = str(tmp_path / "serving")
    push_version(str(_save(tmp_path / "a", 2.0)), serving, now=1000)
    module = tf.Module()
    module.weight = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def serve(x):
        return {"scores": tf.sigmoid(x * module.weight)}

    tf.saved_model.save(module, str(tmp_path / "b"), signatures={"serving_default": serve})
    assert serving_version_of(str(tmp_path / "b"), serving) is None


def test_a_full_disk_during_the_rename_is_not_taken_for_a_name_collision(
    model_dir, tmp_path, monkeypatch
):
    import errno

    from tfx.dsl.io import fileio

    def rename(source, target, overwrite=False):
        raise OSError(errno.ENOSPC, "No space left on device", target)

    monkeypatch.setattr(fileio, "rename", rename)
    with pytest.raises(OSError) as raised:
        push_version(str(model_dir), str(tmp_path / "serving"), now=1000)
    assert raised.value.errno == errno.ENOSPC
    assert [p.name for p in (tmp_path / "serving").iterdir()] == []  # staging removed
