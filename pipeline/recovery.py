"""Before a local run, under the store's lock: make the store, the artifact folders and the
serving folder agree, so a crash, a kill or a deleted folder is repaired instead of inherited.

- A missing or empty store beside the artifacts of earlier runs is refused: a new store would
  number executions from 1 again and write into their folders.
- Executions a dead run left `running` are closed as abandoned and their partial outputs
  deleted (TFX names output folders after the execution id, so nothing else uses them).
- In the serving folder, hidden staging folders of a push that died are removed, and a version
  no push in the store recorded (a kill between the rename and the record) is moved to
  `.quarantine/`, out of TF Serving's sight, so the run pushes it again with its lineage.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil

from metadata import names
from metadata.reader import MetadataReader
from metadata.store import MetadataError, backup_sqlite, open_store, sqlite_integrity
from metadata.writer import close_abandoned
from pipeline.config import PipelineConfig
from pipeline.run_lock import StoreBusy, run_lock

STAGING_PREFIX = ".tmp-"  # components/pusher.py stages a version under this name
QUARANTINE = ".quarantine"
_TFX_SYSTEM_FOLDERS = (".system", ".temp")  # TFX's per-node bookkeeping, beside output keys


class StoreMissing(MetadataError):
    """The store is gone but the artifacts of its runs are not; one line."""


@dataclasses.dataclass(frozen=True)
class Repairs:
    """What was repaired before the run, each a line a person reads."""

    abandoned: tuple[str, ...] = ()  # "Transform (execution 12, run ...)"
    removed: tuple[str, ...] = ()  # partial outputs and staging folders deleted
    quarantined: tuple[str, ...] = ()  # served versions without a record, moved aside

    def lines(self) -> list[str]:
        found = [f"closed abandoned execution {a}" for a in self.abandoned]
        found += [f"removed partial output {r}" for r in self.removed]
        found += [
            f"moved unrecorded served version {q} to {QUARANTINE}/ (no push in the store "
            "recorded it; this run pushes the model again with its lineage)"
            for q in self.quarantined
        ]
        return found


def _node_folders(root: pathlib.Path) -> list[pathlib.Path]:
    """Folders TFX made for a node's executions (each holds a `.system` folder)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / ".system").is_dir())


def _newest_output_id(root: pathlib.Path) -> int:
    """The highest execution id among the output folders `<node>/<key>/<id>`."""
    ids = [
        int(folder.name)
        for node in _node_folders(root)
        for key in node.iterdir()
        if key.is_dir() and key.name not in _TFX_SYSTEM_FOLDERS
        for folder in key.iterdir()
        if folder.name.isdigit()
    ]
    return max(ids, default=0)


def check_store(config: PipelineConfig) -> None:
    """Refuse a store that does not go with the pipeline root: missing or empty beside the
    artifacts of earlier runs, or older than them (a copy restored from before later runs).
    Either way TFX would number new executions into folders that hold other runs' outputs."""
    store = config.metadata_path
    root = config.pipeline_root
    if store.is_file() and store.stat().st_size > 0:
        newest = _newest_output_id(root)
        known = MetadataReader(open_store(sqlite=store)).newest_execution_id()
        if newest > known:
            raise StoreMissing(
                f"{store}: the store's newest execution is {known}, but {root} holds outputs "
                f"of execution {newest}: the store is older than the artifacts (restored from "
                "an earlier copy?) and new runs would write into their folders. Restore the "
                "newest copy, or move the pipeline root away to start afresh"
            )
        return
    earlier = [p.name for p in _node_folders(root)]
    if earlier:
        state = "empty" if store.is_file() else "missing"
        raise StoreMissing(
            f"{store}: the ML Metadata store is {state}, but {root} holds the artifacts of "
            f"earlier runs ({', '.join(earlier[:3])}{', ...' if len(earlier) > 3 else ''}); "
            "a new store would reuse their folders. Restore the store from a copy "
            "(`tfxp store backup` makes one), or move the pipeline root away to start afresh"
        )


def repair(config: PipelineConfig) -> Repairs:
    """Close what dead runs left, and square the serving folder with the store."""
    if not config.metadata_path.is_file() or config.metadata_path.stat().st_size == 0:
        return Repairs(removed=tuple(_remove_staging(config.serving_dir)))
    reader = MetadataReader(open_store(sqlite=config.metadata_path))
    running = reader.running_executions()
    removed = []
    for execution in running:
        working = reader.stateful_dir_index(execution.id)
        removed += _remove_outputs(config.pipeline_root, execution.node, execution.id, working)
    closed = set(close_abandoned(config.metadata_path, [e.id for e in running]))
    abandoned = [e for e in running if e.id in closed]
    removed += _remove_staging(config.serving_dir)
    crashed_pushes = [e for e in abandoned if e.node == names.PUSHER]
    quarantined = (
        _quarantine_unrecorded(config.serving_dir, reader.pushed_destinations())
        if crashed_pushes
        else []
    )
    return Repairs(
        abandoned=tuple(f"{e.node} (execution {e.id}, run {e.run})" for e in abandoned),
        removed=tuple(removed),
        quarantined=tuple(quarantined),
    )


def _remove_outputs(
    pipeline_root: pathlib.Path, node: str, execution_id: int, working: str | None
) -> list[str]:
    """The folders TFX made for one execution: `<node>/<output key>/<id>` and its bookkeeping
    (`<node>/.system/executor_execution/<id>`, `.system/stateful_working_dir/<index>`,
    `<node>/.temp/<id>`)."""
    node_dir = pipeline_root / node
    if not node_dir.is_dir():
        return []
    candidates = [
        key / str(execution_id)
        for key in node_dir.iterdir()
        if key.is_dir() and key.name not in _TFX_SYSTEM_FOLDERS
    ]
    candidates += [
        node_dir / ".system" / "executor_execution" / str(execution_id),
        node_dir / ".temp" / str(execution_id),
    ]
    if working:
        candidates.append(node_dir / ".system" / "stateful_working_dir" / working)
    removed = []
    for path in candidates:
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed.append(str(path))
    return removed


def _remove_staging(serving_dir: pathlib.Path) -> list[str]:
    if not serving_dir.is_dir():
        return []
    stale = [p for p in serving_dir.iterdir() if p.name.startswith(STAGING_PREFIX)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return [str(p) for p in stale]


def _quarantine_unrecorded(serving_dir: pathlib.Path, recorded: set[str]) -> list[str]:
    """After a push died: the versions in `serving_dir` newer than every recorded one there
    (what a kill between the rename and the record leaves). Older unrecorded versions (pushed
    by another store, say) are left where they are; `tfxp store check` reports them."""
    if not serving_dir.is_dir():
        return []
    folder = os.path.realpath(serving_dir)
    known = [
        int(os.path.basename(path))
        for path in map(os.path.realpath, recorded)
        if os.path.dirname(path) == folder and os.path.basename(path).isdigit()
    ]
    newest_known = max(known, default=0)
    moved = []
    for version in version_folders(serving_dir):
        if int(version.name) <= newest_known or int(version.name) in known:
            continue
        aside = serving_dir / QUARANTINE / version.name
        while aside.exists():  # an earlier copy stays
            aside = aside.with_name(aside.name + "-again")
        aside.parent.mkdir(exist_ok=True)
        os.rename(version, aside)
        moved.append(version.name)
    return moved


def version_folders(serving_dir: pathlib.Path) -> list[pathlib.Path]:
    """The numbered folders in the serving folder, oldest first, whole or not (a quick look,
    without TFX: `components.pusher.served_versions` checks each holds a SavedModel)."""
    if not serving_dir.is_dir():
        return []
    found = (p for p in serving_dir.iterdir() if p.name.isdigit() and p.is_dir())
    return sorted(found, key=lambda p: int(p.name))


def served_state(serving_dir: pathlib.Path, recorded: set[str]) -> str:
    """The serving folder as BlessedPusher's cache key sees it: the versions there, and the
    recorded pushes no longer there. Deleting a served version changes it (to a state no
    earlier run had: "gone" only grows), so the next run pushes again instead of reusing the
    cached push."""
    present = [p.name for p in version_folders(serving_dir)]
    folder = os.path.normpath(str(serving_dir))
    gone = sorted(
        (
            os.path.basename(path)
            for path in map(os.path.normpath, recorded)
            if os.path.dirname(path) == folder and os.path.basename(path) not in present
        ),
        key=int,
    )
    return ",".join(present) + (f"; gone {','.join(gone)}" if gone else "")


@dataclasses.dataclass(frozen=True)
class StoreFinding:
    """One thing `tfxp store check` found wrong, and what to do about it."""

    kind: str  # CORRUPT, LEFT_RUNNING, FILES_GONE, UNRECORDED_VERSION, VERSION_GONE
    subject: str
    fix: str


def inspect(config: PipelineConfig) -> list[StoreFinding]:
    """`tfxp store check`: the store file's integrity, executions a dead run left running,
    artifacts whose files are gone, and served versions the store and the folder disagree on.
    Reads only (beside the store's lock file)."""
    path = config.metadata_path
    broken = sqlite_integrity(path) if path.is_file() else []
    if broken:
        fix = "restore the store from a copy (`tfxp store backup` makes one)"
        return [StoreFinding("CORRUPT", f"{path}: {line}", fix) for line in broken]
    reader = MetadataReader(open_store(sqlite=path))
    found = [
        StoreFinding(
            "LEFT_RUNNING",
            f"{e.node} (execution {e.id}, run {e.run})",
            "a dead run left it; the next `tfxp run` closes it and removes its outputs",
        )
        for e in _left_running(reader, path)
    ]
    found += [
        StoreFinding(
            "FILES_GONE",
            f"{a.type} {a.id} ({a.producer or '?'}, run {a.run or '?'}): {a.uri}",
            "its files were deleted; runs that need it will make it again",
        )
        for a in reader.artifacts()
        if "://" not in a.uri
        and a.uri
        and not os.path.exists(a.uri)
        and a.type != "PushedModel"  # its folder is the served version, checked below
    ]
    recorded = {os.path.normpath(p) for p in reader.pushed_destinations()}
    serving = config.serving_dir
    on_disk = {os.path.normpath(str(p)) for p in version_folders(serving)}
    found += [
        StoreFinding(
            "UNRECORDED_VERSION",
            version,
            f"no push recorded it; the next `tfxp run` moves it to {QUARANTINE}/",
        )
        for version in sorted(on_disk - recorded)
    ]
    found += [
        StoreFinding("VERSION_GONE", version, "deleted; the next `tfxp run` pushes its model again")
        for version in sorted(recorded - on_disk)
        if os.path.dirname(version) == os.path.normpath(str(serving))
    ]
    return found


def _left_running(reader: MetadataReader, path: pathlib.Path) -> list:
    """Executions recorded as running while no run holds the store: listed under the lock, so
    a run starting meanwhile is not taken for a dead one. When the lock is held, or cannot be
    taken (a read-only folder), nothing is called left running."""
    try:
        with run_lock(path, holder="tfxp store check"):
            return reader.running_executions()
    except (StoreBusy, OSError):
        return []


def backup(config: PipelineConfig, destination: pathlib.Path) -> pathlib.Path:
    """`tfxp store backup DEST`: a consistent copy, taken while no run writes (under the run
    lock), and checked to open as an ML Metadata store."""
    path = config.metadata_path
    if not path.is_file():
        raise MetadataError(f"{path}: no ML Metadata store there (has the pipeline run?)")
    if not destination.parent.is_dir():
        raise MetadataError(f"{destination}: no folder {destination.parent} for the copy")
    with run_lock(path, holder="tfxp store backup"):
        backup_sqlite(path, destination)
    open_store(sqlite=destination)
    return destination
