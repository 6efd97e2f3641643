"""The writes we make beside TFX's own: the facts of a run, on its `pipeline_run` context.

Facts (the whole config and its hash, code, data and schema hashes, git revisions) are what no
component sees. They are kept on the run, not as component properties, so a new commit does not
invalidate the cache.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping

from metadata import names
from metadata.store import open_store


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
