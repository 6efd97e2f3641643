"""What made a run, recorded on its `pipeline_run` context in ML Metadata.

Component properties already hold the data fingerprint, the schema text and the code hashes;
this adds what no component sees: the whole config, its hash, and the git revisions of the
repository and of the curated schema. Kept on the run context, not as component properties, so
a new commit does not invalidate the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import subprocess

from pipeline import PROJECT_ROOT
from pipeline.config import PipelineConfig
from pipeline.data import code_fingerprint, content_fingerprint, span_files

PREFIX = "tfxp_"


def config_json(config: PipelineConfig) -> str:
    """The parsed config as canonical JSON (paths as strings, keys sorted).

    The file's own path is left out (recorded apart as `config_file`): the same settings in
    another file are the same config.
    """
    settings = dataclasses.asdict(config)
    settings.pop("config_file")
    return json.dumps(settings, sort_keys=True, default=str)


def _git(*args: str, cwd: pathlib.Path = PROJECT_ROOT) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                                timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def run_provenance(config: PipelineConfig, data_sha256: str | None = None,
                   span: int | None = None) -> dict[str, str]:
    """Provenance of a run as flat string properties (absent git facts are left out).

    `data_sha256` and `span` save finding and hashing the span's files a second time when the
    caller has them already. `config` holds the accepted findings (`policy.allow`).
    """
    if data_sha256 is None or span is None:
        span, files = span_files(config.data_root, config.span)
        data_sha256 = content_fingerprint(files, root=config.data_root)
    text = config_json(config)
    facts = {
        "config": text,
        "config_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "config_file": str(config.config_file),
        "models_sha256": code_fingerprint(PROJECT_ROOT / "models"),
        "data_sha256": data_sha256,
        "span": str(span),
        "allowed": json.dumps(list(config.policy.allow)),
        "schema_sha256": hashlib.sha256(config.schema_file.read_bytes()).hexdigest(),
    }
    revision = _git("rev-parse", "HEAD")
    if revision:
        dirty = _git("status", "--porcelain", "--", "models", "pipeline", "components", "schema")
        facts["git_revision"] = revision + ("-dirty" if dirty else "")
    schema_revision = _git("log", "-1", "--format=%H", "--", str(config.schema_file),
                           cwd=config.schema_file.parent)
    if schema_revision:
        facts["schema_git_revision"] = schema_revision
    return {PREFIX + k: v for k, v in facts.items()}


def record_on_latest_run(metadata_path: pathlib.Path, pipeline_name: str,
                         facts: dict[str, str]) -> None:
    """Attach `facts` to the newest run context of `pipeline_name` (the run just made)."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    from pipeline.lineage import Metadata

    if not metadata_path.is_file():
        return
    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = str(metadata_path)  # read-write: this is the one writer
    store = metadata_store.MetadataStore(connection)
    runs = Metadata(store).runs(pipeline_name)  # newest first
    if not runs:
        return
    run = store.get_context_by_type_and_name("pipeline_run", runs[0].run)
    for key, value in facts.items():
        run.custom_properties[key].string_value = value
    store.put_contexts([run])
