"""`tfxp deploy`, `promote`, `rollback`: change the deployment state the server follows, then
put the step on record in ML Metadata (who, when, why, which version, how), against the
version's PushedModel.

The state file is written first: a rollback takes effect at once, even while a pipeline run
holds the store (the record waits for SQLite's lock, briefly).
"""

from __future__ import annotations

import dataclasses
import getpass
import pathlib

from metadata import names
from metadata.reader import MetadataReader
from metadata.store import MetadataError, open_store
from metadata.writer import record_on_pushed_model
from pipeline.config import PipelineConfig
from serving import deployment
from serving.repository import ModelRepository

WITHDRAW = "withdraw"  # a candidate taken out, live unchanged (the monitor's canary rollback)


@dataclasses.dataclass(frozen=True)
class Rollout:
    """What a rollout command did: the state before and after, and its record's id."""

    action: str
    before: deployment.DeploymentState
    after: deployment.DeploymentState
    execution_id: int | None


def apply(
    config: PipelineConfig,
    action: str,
    why: str,
    version: int | None = None,
    mode: str = deployment.BLUE_GREEN,
    percent: float = 0.0,
) -> Rollout:
    serving_dir = pathlib.Path(config.serving_dir)
    if not config.metadata_path.is_file():
        raise MetadataError(
            f"{config.metadata_path}: no ML Metadata store to record the {action} in"
        )
    versions = ModelRepository(str(serving_dir)).versions()
    with deployment.state_lock(serving_dir):
        before = deployment.read_state(serving_dir)
        if action == "deploy":
            after = deployment.deploy(before, versions, version, mode, percent)
        elif action == "promote":
            after = deployment.promote(before, versions)
        elif action == WITHDRAW:
            after = deployment.withdraw(before)
        else:
            after = deployment.rollback(before, versions)
        affected = (
            version
            if action == "deploy"
            else before.candidate.version
            if action == WITHDRAW
            else after.live
        )
        pushed = pushed_model_id(config, serving_dir, affected)
        if pushed is None:
            raise MetadataError(
                f"version {affected}: no push in {config.metadata_path} recorded it, so it "
                "would have no lineage; push it with `tfxp run`"
            )
        deployment.write_state(serving_dir, after)  # first: a rollback takes effect at once
    facts = {
        names.DEPLOYMENT_ACTION: action,
        names.DEPLOYMENT_VERSION: int(affected),
        names.DEPLOYMENT_MODE: mode if action == "deploy" else deployment.LIVE,
        names.DEPLOYMENT_PERCENT: float(percent if action == "deploy" else 0.0),
        names.DEPLOYMENT_WHO: _who(),
        names.DEPLOYMENT_WHY: why,
    }
    try:
        execution_id = record_on_pushed_model(
            config.metadata_path, config.name, names.DEPLOYMENT, pushed, facts
        )
    except Exception as err:  # the state changed; say so, and what is missing
        first = str(err).splitlines()[0] if str(err) else repr(err)
        raise MetadataError(
            f"{action} done (live is now {after.live}), but not recorded in "
            f"{config.metadata_path}: {first}"
        ) from None
    return Rollout(action, before, after, execution_id)


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def pushed_model_id(config: PipelineConfig, serving_dir: pathlib.Path, version: int) -> int | None:
    """The PushedModel that put `version` in `serving_dir` (the newest, if pushed twice)."""
    reader = MetadataReader(open_store(sqlite=config.metadata_path))
    found = [p.artifact_id for p in reader.pushes_into(serving_dir) if p.version == version]
    return found[-1] if found else None
