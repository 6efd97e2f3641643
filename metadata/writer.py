"""The writes we make beside TFX's own: the facts of a run, on its `pipeline_run` context, and
the closing of executions a dead run left `running`.

Facts (the whole config and its hash, code, data and schema hashes, git revisions) are what no
component sees. They are kept on the run, not as component properties, so a new commit does not
invalidate the cache.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping

from ml_metadata.proto import metadata_store_pb2

from metadata import names
from metadata.store import MetadataError, open_store


def record_run_facts(metadata_path: pathlib.Path, run_id: str, facts: Mapping[str, str]) -> bool:
    """Attach `facts` to run `run_id`; False when the store or the run does not exist (the run
    stopped before its first step was recorded)."""
    if not metadata_path.is_file():
        return False
    store = open_store(sqlite=metadata_path, writable=True)
    run = store.get_context_by_type_and_name(names.PIPELINE_RUN, run_id)
    if run is None:
        return False
    for key, value in facts.items():
        run.custom_properties[names.RUN_FACT_PREFIX + key].string_value = value
    store.put_contexts([run])
    return True


def close_abandoned(metadata_path: pathlib.Path, execution_ids: list[int]) -> list[int]:
    """Mark executions a dead run left `running` as canceled and abandoned (only call this
    while holding the store's run lock: then no live run owns them). Returns the ids closed."""
    if not execution_ids:
        return []
    store = open_store(sqlite=metadata_path, writable=True)
    closed = [
        e
        for e in store.get_executions_by_id(execution_ids)
        if e.last_known_state == metadata_store_pb2.Execution.RUNNING
    ]
    for execution in closed:
        execution.last_known_state = metadata_store_pb2.Execution.CANCELED
        execution.custom_properties[names.ABANDONED].int_value = 1
    if closed:
        store.put_executions(closed)
    return [e.id for e in closed]


def record_on_pushed_model(
    metadata_path: pathlib.Path,
    pipeline: str,
    execution_type: str,
    pushed_model_id: int | None,
    facts: Mapping[str, str | int | float],
) -> int:
    """A step taken on a served version, on record as an execution of `execution_type`
    (a rollout: who, why, which version and how; a monitoring: the range and what was found)
    at the execution's time. It reads the version's PushedModel, so the model's lineage shows
    it. Retries briefly while a run holds SQLite's write lock."""
    import time

    from ml_metadata import errors

    for _ in range(50):  # 10 s
        try:
            store = open_store(sqlite=metadata_path, writable=True)
            type_id = store.put_execution_type(
                metadata_store_pb2.ExecutionType(name=execution_type)
            )
            execution = metadata_store_pb2.Execution(
                type_id=type_id, last_known_state=metadata_store_pb2.Execution.COMPLETE
            )
            for key, value in facts.items():
                field = (
                    "string_value"
                    if isinstance(value, str)
                    else ("int_value" if isinstance(value, int) else "double_value")
                )
                setattr(execution.custom_properties[key], field, value)
            events = []
            if pushed_model_id is not None:
                [artifact] = store.get_artifacts_by_id([pushed_model_id])
                event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.INPUT)
                event.path.steps.add().key = "pushed_model"
                events.append((artifact, event))
            context = store.get_context_by_type_and_name(names.PIPELINE, pipeline)
            execution_id, _, _ = store.put_execution(
                execution, events, [context] if context else [], force_reuse_context=True
            )
            return execution_id
        except errors.InternalError as err:  # "database is locked": a run is writing
            if "locked" not in str(err):
                raise
            time.sleep(0.2)
    raise MetadataError(
        f"{metadata_path}: the store stayed locked for 10 s (a run is writing); the "
        f"{execution_type} step is not recorded"
    )
