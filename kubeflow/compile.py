"""Compile the one pipeline definition for Kubeflow Pipelines v2 (KubeflowV2DagRunner).

Two targets, decided by what each backend executes. Vertex AI Pipelines runs a task's
`lifecycle` hook (ExampleGen's span driver) and TFX's resolver queries; open-source Kubeflow
Pipelines compiles runs to Argo, which runs neither ("resolver executors not implemented") and
silently skips `lifecycle`. The Kubeflow placement needs neither: the gate keeps its verdicts on
storage, the window and the baseline are tasks (`components/span_records`, `served_baseline`),
and our ExampleGen executor resolves the span when no driver ran. For `kfp` the driver hook is
left out of the spec; then the compiled spec itself is checked against the target, naming each
task that target cannot run, so nothing is written that the backend would refuse.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import tempfile
from typing import Any

from kubeflow.profile import REMOTE_SCHEMES, TARGETS, KubeflowProfile
from metadata import names
from pipeline.config import PipelineConfig

# Runtime parameters a run can override with `tfxp submit --param NAME=VALUE`.
DATA_ROOT_PARAM = "data_root"
TRAIN_ARGS_PARAM = "train_args"  # JSON of trainer_pb2.TrainArgs, e.g. {"num_steps": 500}
PROVENANCE_PARAM = names.PROVENANCE_PARAMETER  # JSON of what made the run; see submit.py
RANGE_CONFIG_PARAM = "range_config"  # JSON of range_config_pb2.RangeConfig; "" = newest span
# A Kubeflow pipeline's name becomes run names, Vertex job ids and Kubernetes labels: the
# strictest of their rules (a DNS-1035 label). Checked before compiling; local runs keep the
# config's name rule so existing stores stay theirs.
NAME_RULE = r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?"


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
        span=data_types.RuntimeParameter(
            name=RANGE_CONFIG_PARAM, ptype=str, default=defaults[RANGE_CONFIG_PARAM]
        ),
        serving_data_root=profile.serving_data_root,
        records_dir=records_dir(config, profile),
    )


def records_dir(config: PipelineConfig, profile: KubeflowProfile) -> str:
    """Where the gate keeps this pipeline's verdicts (components/span_records.py)."""
    return f"{profile.pipeline_root}/{config.name}/accepted-spans"


def spec_problems(spec: dict, target: str) -> list[str]:
    """Every task of a compiled PipelineSpec that `target` cannot execute, by name."""
    executors = spec["deploymentSpec"]["executors"]
    problems = []
    for task, body in sorted(spec["root"]["dag"]["tasks"].items()):
        executor = executors[spec["components"][body["componentRef"]["name"]]["executorLabel"]]
        if target == "kfp" and "resolver" in executor:
            problems.append(
                f"{task}: a resolver task; open-source KFP runs none ('resolver executors not "
                "implemented')"
            )
        if target == "kfp" and "lifecycle" in executor.get("container", {}):
            problems.append(f"{task}: a lifecycle hook, which open-source KFP skips")
    return problems


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
    target: str | None = None,
) -> list[pathlib.Path]:
    """Write `<name>.<format>` pipeline specs into `output_dir`; nothing is written on error.

    `target` (vertex or kfp) overrides the profile's."""
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner as v2

    from pipeline.definition import build_pipeline
    from pipeline.run_facts import source_facts

    if not re.fullmatch(NAME_RULE, config.name):
        raise PortabilityError(
            f"{config.config_file}: 'name' {config.name!r} cannot name a Kubeflow pipeline: use "
            "lower-case letters, digits and '-', starting with a letter, ending with a letter or "
            "digit, at most 63 characters"
        )
    pipeline = build_pipeline(config, kubeflow_placement(config, profile))
    problems = portability_problems(pipeline)
    if problems:
        raise PortabilityError(
            "cannot compile for Kubeflow:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    target = target or profile.target
    if target not in TARGETS:
        raise PortabilityError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if profile.enable_cache:
        raise PortabilityError(
            "enable_cache: true: on Kubeflow a cached ExampleGen would hand an earlier run's "
            "examples to changed files, and a cached gate would skip its records; remove it"
        )
    written = []
    defaults = runtime_defaults(config, profile)
    # The config file's bytes, not its parsed settings: those hold this machine's paths.
    facts = source_facts(config)
    if config.config_file is not None:
        facts["config_file_sha256"] = hashlib.sha256(config.config_file.read_bytes()).hexdigest()
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
            _finish_spec(pathlib.Path(staging) / name, profile, defaults, target, facts)
            os.replace(pathlib.Path(staging) / name, output_dir / name)  # never half-written
            written.append(output_dir / name)
    return written


def runtime_defaults(config: PipelineConfig, profile: KubeflowProfile) -> dict[str, str]:
    steps = config.model.training.train_steps
    return {
        DATA_ROOT_PARAM: profile.data_root,
        TRAIN_ARGS_PARAM: json.dumps({"num_steps": steps}),
        RANGE_CONFIG_PARAM: "",
    }


def _finish_spec(
    spec_file: pathlib.Path,
    profile: KubeflowProfile,
    defaults: dict[str, str],
    target: str,
    facts: dict[str, str],
) -> None:
    """Declare the runtime parameters' defaults in the spec (TFX 1.16 leaves them out of
    `root.inputDefinitions`, so the KFP UI shows none), put the profile's CPU and memory
    limits on every container executor, leave out for `kfp` the span driver our ExampleGen
    executor replaces, and refuse what the target cannot run."""
    import yaml

    from components.example_gen import Executor  # resolves the span when no driver ran

    span_executor = f"{Executor.__module__}.{Executor.__qualname__}"
    is_json = spec_file.suffix == ".json"
    spec = json.loads(spec_file.read_text()) if is_json else yaml.safe_load(spec_file.read_text())
    pipeline_spec = spec.get("pipelineSpec", spec)  # YAML holds the PipelineSpec alone
    # The root is otherwise only in the JSON's runtimeConfig, which a PipelineSpec-only
    # submission (the kfp client's) drops: the run would write to the cluster's default root.
    pipeline_spec["defaultPipelineRoot"] = profile.pipeline_root
    declared = pipeline_spec["root"]["inputDefinitions"]["parameters"]
    for name, value in defaults.items():
        declared[name]["defaultValue"] = value
    # Read by no task: what made the spec (config, code and schema hashes, git revision) is kept
    # with each run; `tfxp submit` adds the spec's own hash and image.
    compiled_from = json.dumps(facts, sort_keys=True)
    declared[PROVENANCE_PARAM] = {"parameterType": "STRING", "defaultValue": compiled_from}
    if "runtimeConfig" in spec:
        spec["runtimeConfig"]["parameterValues"][PROVENANCE_PARAM] = compiled_from
    limits = {}
    if profile.resources.cpu is not None:
        limits["cpuLimit"] = _cpu(profile.resources.cpu)
    if profile.resources.memory is not None:
        limits["memoryLimit"] = _memory_gb(profile.resources.memory)
    for executor in pipeline_spec["deploymentSpec"]["executors"].values():
        container = executor.get("container", {})
        if container and limits:
            container["resources"] = dict(limits)
        if target == "kfp" and span_executor in container.get("args", []):
            container.pop("lifecycle", None)
    problems = spec_problems(pipeline_spec, target)
    if profile.secret_env and target != "kfp":
        problems.append(
            "env_from_kubernetes_secrets: Vertex AI Pipelines mounts no Kubernetes secrets; "
            "give the run's service account (`tfxp submit --service-account`) the access instead"
        )
    if problems:
        raise PortabilityError(
            f"cannot compile for {target}:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    platform = _platform_spec(pipeline_spec, profile)
    if is_json:
        if platform:
            spec["platformSpec"] = platform
        spec_file.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    else:  # KFP's package layout: the pipeline spec, then the platform spec
        documents = [spec] + ([platform] if platform else [])
        spec_file.write_text(yaml.safe_dump_all(documents, sort_keys=True))


def _platform_spec(pipeline_spec: dict, profile: KubeflowProfile) -> dict | None:
    """KFP's Kubernetes platform spec: every task's pod reads the profile's secrets as
    environment variables; the spec names them, Kubernetes holds the values."""
    if not profile.secret_env:
        return None
    by_secret: dict[str, list[dict]] = {}
    for item in profile.secret_env:
        by_secret.setdefault(item.secret, []).append({"secretKey": item.key, "envVar": item.env})
    secret_as_env = [{"secretName": name, "keyToEnv": keys} for name, keys in by_secret.items()]
    executors = {
        label: {"secretAsEnv": secret_as_env}
        for label, executor in pipeline_spec["deploymentSpec"]["executors"].items()
        if "container" in executor
    }
    return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}


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
