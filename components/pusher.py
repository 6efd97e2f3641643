"""BlessedPusher: copies a blessed model into a new numbered version, atomically.

Replaces TFX 1.16's Pusher, which pushes without a blessing input (a warning only), writes
straight into `<base>/<unix seconds>/` so two pushes in one second collide, and can leave a
partial version behind on a crash. Here the blessing is a required input (a pipeline without it
cannot be built), the version directory is written under a hidden temporary name and renamed
into place (on object storage, where there is no rename, copied in with saved_model.pb last),
and a version number is never reused.
"""

import errno
import os
import re
import signal
import time
import uuid

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types import standard_artifacts
from tfx.utils import io_utils, path_utils

from components.fingerprint import model_fingerprint
from metadata import names

_VERSION = re.compile(r"^\d+$")
# Set by the fault tests (tests/e2e/test_faults.py) to kill the run the instant a version is in
# place and before ML Metadata records the push: the one crash the store cannot see.
CRASH_AFTER_RENAME = "TFXP_TEST_CRASH_AFTER_PUSH_RENAME"


class PushError(RuntimeError):
    """The model could not be pushed, or the blessing does not belong to the model."""


def existing_versions(serving_dir: str) -> list[int]:
    """Version numbers TensorFlow Serving would see: all-digit directory names."""
    if not fileio.exists(serving_dir):
        return []
    return sorted(
        int(name.rstrip("/"))
        for name in fileio.listdir(serving_dir)
        if _VERSION.match(name.rstrip("/"))
    )


def served_versions(serving_dir: str) -> list[int]:
    """Versions that are whole: a push that died on object storage can leave a numbered folder
    without its saved_model.pb, which neither TF Serving nor a baseline can use."""
    return [
        v
        for v in existing_versions(serving_dir)
        if fileio.exists(os.path.join(serving_dir, str(v), "saved_model.pb"))
    ]


def serving_version_of(model_dir: str, serving_dir: str) -> int | None:
    """The newest version if it holds the same model (weights, assets, signatures), else None.

    A re-run with nothing changed re-evaluates the same model against itself (it is now the
    latest blessed one) and blesses it again; so does a retrain after a comment-only code edit.
    Pushing it would only duplicate the version.
    """
    versions = served_versions(serving_dir)
    if not versions:
        return None
    newest = os.path.join(serving_dir, str(versions[-1]))
    return versions[-1] if model_fingerprint(newest) == model_fingerprint(model_dir) else None


def push_version(model_dir: str, serving_dir: str, now: float | None = None) -> tuple[int, str]:
    """Copy `model_dir` to `<serving_dir>/<version>/` and return (version, path).

    The version is the current Unix time in seconds, or one more than the newest existing
    version if that is later, so versions only grow. The copy goes to a hidden temporary
    directory (TensorFlow Serving ignores non-numeric names) and is renamed into place; rename
    refuses an existing non-empty target, so a concurrent push takes the next number instead
    of mixing files.
    """
    if not fileio.exists(os.path.join(model_dir, "saved_model.pb")):
        # io_utils.copy_dir copies nothing from a missing directory, silently (TFX 1.16).
        raise PushError(f"{model_dir}: no saved_model.pb, not a SavedModel; nothing pushed")
    if "://" in serving_dir:
        return _push_to_object_storage(model_dir, serving_dir, now)
    fileio.makedirs(serving_dir)
    staging = os.path.join(serving_dir, f".tmp-{uuid.uuid4().hex}")
    try:
        io_utils.copy_dir(model_dir, staging)
        version = _next_version(serving_dir, now)
        for _ in range(100):
            target = os.path.join(serving_dir, str(version))
            try:
                if fileio.exists(target):
                    raise FileExistsError(target)
                fileio.rename(staging, target, overwrite=False)
                if os.environ.get(CRASH_AFTER_RENAME):  # fault tests only: see the constant
                    os.kill(os.getpid(), signal.SIGKILL)
                return version, target
            except (FileExistsError, *_name_taken_errors()):  # taken meanwhile: the next number
                version += 1
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise  # a full disk or a read-only folder is not a name collision
                version += 1
        raise PushError(f"{serving_dir}: no free version number after 100 attempts")
    finally:
        if fileio.exists(staging):
            fileio.rmtree(staging)


def _name_taken_errors() -> tuple[type[Exception], ...]:
    """What TensorFlow's file system raises when a rename's target exists (its own error
    type, not OSError)."""
    import tensorflow as tf

    return (tf.errors.AlreadyExistsError,)


def _next_version(serving_dir: str, now: float | None) -> int:
    """The current Unix time, or one more than the newest version if that is later."""
    current = int(now if now is not None else time.time())
    return max([current] + [v + 1 for v in existing_versions(serving_dir)])


def _push_to_object_storage(model_dir: str, serving_dir: str, now: float | None) -> tuple[int, str]:
    """Object storage (gs://, s3://) has no directory rename: TensorFlow's file system renames a
    folder object by object, so TF Serving could find a version with half its variables. Here
    every file is copied straight into the version, `saved_model.pb` last: until that object
    exists TF Serving finds no SavedModel there (it retries a failed load a few times, so the
    window matters little), and `served_versions` skips the folder if the push dies midway.
    Versions only grow and a folder that exists is never written into; two pushes racing for
    one number on object storage are not otherwise guarded (one run pushes at a time)."""
    version = _next_version(serving_dir, now)
    while fileio.exists(os.path.join(serving_dir, str(version))):
        version += 1
    target = os.path.join(serving_dir, str(version))
    files = [
        os.path.join(root, name) for root, _, names in fileio.walk(model_dir) for name in names
    ]
    files.sort(key=lambda path: os.path.relpath(path, model_dir) == "saved_model.pb")
    for source in files:
        destination = os.path.join(target, os.path.relpath(source, model_dir))
        fileio.makedirs(os.path.dirname(destination))
        fileio.copy(source, destination, overwrite=False)
    return version, target


@component
def BlessedPusher(
    model: InputArtifact[standard_artifacts.Model],
    model_blessing: InputArtifact[standard_artifacts.ModelBlessing],
    pushed_model: OutputArtifact[standard_artifacts.PushedModel],
    serving_dir: Parameter[str],
    served_state: Parameter[str] = "",
    span: Parameter[int] = 0,
    served_span: Parameter[int] = 0,
) -> None:
    """Push `model` if and only if `model_blessing` blesses this very model, and its data is
    not older than the served model's.

    `served_state` is read by nobody here: it lists the serving folder's versions when the run
    was planned (`pipeline.recovery.served_state`), so a deleted version is a new cache key and
    the push runs again instead of being reused from cache. `span` is the newest span the model
    was trained on and `served_span` the served model's (0: unknown, or the user chose to
    replace it): a model of 2013 data does not replace one of 2016 by accident."""
    blessed = model_blessing.get_int_custom_property(names.BLESSED) == 1
    # By URI, not id: Kubeflow V2's entrypoint (TFX 1.16) rewrites `current_model_id` as a
    # string resource name, which reads back as 0 here.
    judged = model_blessing.get_string_custom_property(names.CURRENT_MODEL_URI)
    if blessed and judged.rstrip("/") != model.uri.rstrip("/"):
        raise PushError(f"the blessing is for the model at {judged!r}, not {model.uri!r}")
    if not blessed:
        pushed_model.set_int_custom_property(names.PUSHED, 0)
        return
    if span and served_span and span < served_span:
        pushed_model.set_int_custom_property(names.PUSHED, 0)
        pushed_model.set_int_custom_property(names.OLDER_THAN_SERVED, served_span)
        return
    model_dir = path_utils.serving_model_path(model.uri)
    already = serving_version_of(model_dir, serving_dir)
    if already is not None:
        pushed_model.set_int_custom_property(names.PUSHED, 0)
        pushed_model.set_int_custom_property(names.ALREADY_SERVING_VERSION, already)
        return
    version, target = push_version(model_dir, serving_dir)
    pushed_model.set_int_custom_property(names.PUSHED, 1)
    pushed_model.set_string_custom_property(names.PUSHED_DESTINATION, target)
    pushed_model.set_int_custom_property(names.PUSHED_VERSION, version)
