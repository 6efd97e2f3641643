"""What made a run, beyond what its components record: the facts kept on its run in ML Metadata.

Component properties already hold the data fingerprint, the schema text and the code hashes;
these add what no component sees: the whole config, its hash, the span and what it allowed,
and the git revisions of the repository and of the curated schema (`metadata.writer` records
them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import subprocess

from components.fingerprint import code_fingerprint
from models import MODEL_MODULE, PREPROCESSING_MODULE
from pipeline import PROJECT_ROOT
from pipeline.config import PipelineConfig

_CODE_FOLDERS = ("models", "components", "metadata", "pipeline")  # a run executes these


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
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def source_facts(config: PipelineConfig) -> dict[str, str]:
    """What the code and schema of a run are, wherever it runs and from whichever checkout:
    hashes and git revisions."""
    facts = {
        "models_sha256": code_fingerprint(MODEL_MODULE, PREPROCESSING_MODULE),
        "schema_sha256": hashlib.sha256(config.schema_file.read_bytes()).hexdigest(),
    }
    revision = _git("rev-parse", "HEAD")
    if revision:
        dirty = _git("status", "--porcelain", "--", *_CODE_FOLDERS, "schema")
        facts["git_revision"] = revision + ("-dirty" if dirty else "")
    schema_revision = _git(
        "log", "-1", "--format=%H", "--", str(config.schema_file), cwd=config.schema_file.parent
    )
    if schema_revision:
        facts["schema_git_revision"] = schema_revision
    return facts


def run_facts(config: PipelineConfig, data_sha256: str, span: int) -> dict[str, str]:
    """A run's facts as flat strings; git facts are left out where there is no git."""
    text = config_json(config)
    return {
        "config": text,
        "config_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "config_file": str(config.config_file),
        "data_sha256": data_sha256,
        "span": str(span),
        "allowed": json.dumps(list(config.validation.allow)),
        **source_facts(config),
    }
