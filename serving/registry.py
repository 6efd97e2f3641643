"""`tfxp models`: each pushed version with its run, span, metrics, blessing and role, read from
ML Metadata and the deployment state.

Roles: `live` answers requests; `candidate` (shadow, canary or blue-green) is on trial; the
`previous` live versions are what a rollback returns to; `available` is on disk and not in use;
`retired` is recorded but its folder is gone.
"""

from __future__ import annotations

import dataclasses
import pathlib

from metadata.evaluation import overall_metrics
from metadata.reader import MetadataReader
from metadata.store import open_store
from pipeline.config import PipelineConfig
from serving import deployment
from serving.repository import ModelRepository


@dataclasses.dataclass(frozen=True)
class ModelVersion:
    version: int
    role: str  # live, candidate (<mode>), previous, available, retired
    run: str | None
    span: str | None
    pushed_at: str
    blessed: bool | None
    metrics: dict[str, float]
    path: str


def models(config: PipelineConfig) -> list[ModelVersion]:
    """Recorded pushes into this config's serving folder, newest version first."""
    serving_dir = pathlib.Path(config.serving_dir)
    on_disk = ModelRepository(str(serving_dir)).versions()
    state = deployment.read_state(serving_dir)
    live = state.live_version(on_disk)
    reader = MetadataReader(open_store(sqlite=config.metadata_path))
    found = []
    for push in reversed(reader.pushes_into(serving_dir)):
        run = reader.run(push.run) if push.run else None
        found.append(
            ModelVersion(
                version=push.version,
                role=_role(push.version, live, state, on_disk),
                run=push.run,
                span=run.provenance.get("span") if run else None,
                pushed_at=push.pushed_at,
                blessed=run.blessed if run else None,
                metrics=overall_metrics(run.evaluation_uri) if run and run.evaluation_uri else {},
                path=push.destination,
            )
        )
    return found


def _role(version: int, live: int | None, state, on_disk: list[int]) -> str:
    if version not in on_disk:
        return "retired"
    if version == live:
        return deployment.LIVE
    if state.candidate is not None and state.candidate.version == version:
        percent = f" {state.candidate.percent:g}%" if state.candidate.mode == "canary" else ""
        return f"{deployment.CANDIDATE} ({state.candidate.mode}{percent})"
    if version in state.previous:
        return "previous"
    return "available"
