"""Compile the one pipeline definition for Kubeflow Pipelines v2 (KubeflowV2DagRunner).

Before compiling, the pipeline is checked for what KubeflowV2DagRunner (TFX 1.16) cannot run,
so the user gets the node and the reason instead of a TypeError from deep in the compiler.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import tempfile
from typing import Any

from kubeflow.profile import REMOTE_SCHEMES, KubeflowProfile
from pipeline.config import PipelineConfig

# Runtime parameters a run can override with `tfxp submit --param NAME=VALUE`.
DATA_ROOT_PARAM = "data_root"
TRAIN_ARGS_PARAM = "train_args"  # JSON of trainer_pb2.TrainArgs, e.g. {"num_steps": 500}


class PortabilityError(ValueError):
    """The pipeline holds something KubeflowV2DagRunner cannot run; names each node and why."""


def kubeflow_placement(config: PipelineConfig, profile: KubeflowProfile):
    from tfx.orchestration import data_types

    from pipeline.definition import Placement

    defaults = runtime_defaults(config, profile)
    return Placement(
        pipeline_root=profile.pipeline_root,
        data_root=data_types.RuntimeParameter(
            name=DATA_ROOT_PARAM, ptype=str, default=defaults[DATA_ROOT_PARAM]
        ),
        serving_dir=profile.serving_dir,
        beam_args=profile.beam_args,
        metadata_connection=None,
        enable_cache=profile.enable_cache,
        data_fingerprint=None,
        train_args=data_types.RuntimeParameter(
            name=TRAIN_ARGS_PARAM, ptype=str, default=defaults[TRAIN_ARGS_PARAM]
        ),
        serving_data_root=profile.serving_data_root,
    )


def portability_problems(pipeline: Any) -> list[str]:
    """Everything in `pipeline` that KubeflowV2DagRunner cannot compile or a pod cannot reach."""
    from tfx.components.infra_validator.component import InfraValidator
    from tfx.dsl.components.common.resolver import RESOLVER_STRATEGY_CLASS, Resolver
    from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import (
        LatestArtifactStrategy,
    )
    from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
        LatestBlessedModelStrategy,
    )
    from tfx.orchestration import data_types

    problems = []
    if not str(pipeline.pipeline_info.pipeline_root).startswith(REMOTE_SCHEMES):
        problems.append(
            f"pipeline root {pipeline.pipeline_info.pipeline_root!r} is not on object storage"
        )
    if pipeline.metadata_connection_config is not None:
        problems.append("a local ML Metadata connection (SQLite) is set; Kubeflow uses its own")
    for node in pipeline.components:
        if isinstance(node, Resolver):
            strategy = node.exec_properties.get(RESOLVER_STRATEGY_CLASS)
            if strategy not in (LatestArtifactStrategy, LatestBlessedModelStrategy):
                problems.append(
                    f"{node.id}: resolver strategy {getattr(strategy, '__name__', strategy)} does "
                    "not compile for KubeflowV2DagRunner (only LatestArtifactStrategy and "
                    "LatestBlessedModelStrategy do)"
                )
        if isinstance(node, InfraValidator):
            problems.append(f"{node.id}: InfraValidator is not implemented by KubeflowV2DagRunner")
        for key in ("input_base", "serving_dir"):
            value = node.exec_properties.get(key)
            if isinstance(value, data_types.RuntimeParameter):
                value = value.default
            if value is not None and not str(value).startswith(REMOTE_SCHEMES):
                problems.append(
                    f"{node.id}: {key} {value!r} is a local path; a pipeline pod "
                    f"cannot see it (use {' or '.join(REMOTE_SCHEMES)})"
                )
    return problems


def compile_pipeline(
    config: PipelineConfig,
    profile: KubeflowProfile,
    output_dir: pathlib.Path,
    formats: tuple[str, ...] = ("json",),
) -> list[pathlib.Path]:
    """Write `<name>.<format>` pipeline specs into `output_dir`; nothing is written on error."""
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner as v2

    from pipeline.definition import build_pipeline

    pipeline = build_pipeline(config, kubeflow_placement(config, profile))
    problems = portability_problems(pipeline)
    if problems:
        raise PortabilityError(
            "cannot compile for Kubeflow:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    written = []
    defaults = runtime_defaults(config, profile)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir) as staging:
        for fmt in formats:
            name = f"{config.name}.{fmt}"
            runner = v2.KubeflowV2DagRunner(
                config=v2.KubeflowV2DagRunnerConfig(
                    display_name=config.name,
                    default_image=profile.image,
                    use_pipeline_spec_2_1=True,
                ),
                output_dir=staging,
                output_filename=name,
            )
            runner.run(pipeline, parameter_values=defaults, write_out=True)
            _finish_spec(pathlib.Path(staging) / name, profile, defaults)
            os.replace(pathlib.Path(staging) / name, output_dir / name)  # never half-written
            written.append(output_dir / name)
    return written


def runtime_defaults(config: PipelineConfig, profile: KubeflowProfile) -> dict[str, str]:
    steps = config.model.training.train_steps
    return {DATA_ROOT_PARAM: profile.data_root, TRAIN_ARGS_PARAM: json.dumps({"num_steps": steps})}


def _finish_spec(
    spec_file: pathlib.Path, profile: KubeflowProfile, defaults: dict[str, str]
) -> None:
    """Declare the runtime parameters' defaults in the spec (TFX 1.16 leaves them out of
    `root.inputDefinitions`, so the KFP UI shows none) and put the profile's CPU and memory
    limits on every container executor."""
    import yaml

    is_json = spec_file.suffix == ".json"
    spec = json.loads(spec_file.read_text()) if is_json else yaml.safe_load(spec_file.read_text())
    pipeline_spec = spec.get("pipelineSpec", spec)  # YAML holds the PipelineSpec alone
    # The root is otherwise only in the JSON's runtimeConfig, which a PipelineSpec-only
    # submission (the kfp client's) drops: the run would write to the cluster's default root.
    pipeline_spec["defaultPipelineRoot"] = profile.pipeline_root
    for name, value in defaults.items():
        pipeline_spec["root"]["inputDefinitions"]["parameters"][name]["defaultValue"] = value
    limits = {}
    if profile.resources.cpu is not None:
        limits["cpuLimit"] = _cpu(profile.resources.cpu)
    if profile.resources.memory is not None:
        limits["memoryLimit"] = _memory_gb(profile.resources.memory)
    for executor in pipeline_spec["deploymentSpec"]["executors"].values():
        if "container" in executor and limits:
            executor["container"]["resources"] = dict(limits)
    spec_file.write_text(
        json.dumps(spec, indent=2, sort_keys=True) + "\n"
        if is_json
        else yaml.safe_dump(spec, sort_keys=True)
    )


def _cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _memory_gb(quantity: str) -> float:
    """Kubernetes quantity to the GB (10^9 bytes) that pipeline specs use."""
    units = {
        "K": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
    }
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?)?", quantity)
    number, unit = float(match.group(1)), match.group(2)
    return round(number * units.get(unit, 1) / 1e9, 6)
