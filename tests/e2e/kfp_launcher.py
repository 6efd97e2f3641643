"""A stand-in for the Kubeflow Pipelines launcher: runs a compiled spec's tasks as the backend
would, and nothing more.

For each task in DAG order it builds the ExecutorInput the launcher builds (parameter values
from the run's parameters and the task's constants, input artifacts from upstream executor
outputs, output artifacts with URIs under the pipeline root, an output file), substitutes it for
`{{$}}` in the task's container command and runs that command as a process: TFX's
`kubeflow_v2_run_executor` entrypoint, our executors and TFX are the real ones. On Vertex the
task's `lifecycle` pre-cache-check (ExampleGen's span driver) runs first with the same input, as
Vertex runs it; open-source KFP skips it. Object-storage paths are mapped to a local folder
before a process sees them, the one liberty taken, since no bucket is reachable here.

For open-source KFP it can also record each run in ML Metadata as KFP's driver and launcher do
(`kfp_metadata`), and gives each task what KFP's pods get: a pod uid in `KFP_POD_UID` and output
URIs under `<task>/<salt>/`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

from metadata.names import KFP_POD_UID_ENV
from tests.kfp_metadata import KfpMetadata


class TaskFailed(RuntimeError):
    pass


@dataclasses.dataclass
class TaskResult:
    name: str
    seconds: float
    output: dict  # the ExecutorOutput the task wrote: artifacts by output key
    outputs_given: dict  # the output artifacts the launcher handed the task
    artifact_ids: dict = dataclasses.field(default_factory=dict)  # ML Metadata ids by output key


@dataclasses.dataclass
class RunResult:
    run_id: str
    tasks: dict[str, TaskResult]
    failed: str | None = None  # the task that failed, if any
    stderr: str = ""

    def artifact(self, task: str, key: str) -> dict:
        """An output artifact as the next task would receive it."""
        return self.tasks[task].output["artifacts"][key]["artifacts"][0]


class Launcher:
    def __init__(
        self,
        spec_file: str,
        target: str,
        bucket: str,
        local_root: str,
        workdir: str,
        metadata: KfpMetadata | None = None,
    ):
        document = json.loads(open(spec_file).read())
        self.spec = document.get("pipelineSpec", document)
        self.target = target
        self.bucket, self.local_root, self.workdir = bucket, local_root, workdir
        self.metadata = metadata

    def _local(self, text: str) -> str:
        return text.replace(self.bucket, self.local_root)

    def waves(self) -> list[list[str]]:
        """Tasks in waves: each wave's tasks depend only on earlier waves' (and run together)."""
        tasks = self.spec["root"]["dag"]["tasks"]
        needs = {name: set(_upstream(task)) for name, task in tasks.items()}
        done: set[str] = set()
        waves = []
        while needs:
            ready = sorted(name for name, up in needs.items() if up <= done)
            if not ready:
                raise ValueError(f"the DAG has a cycle among {sorted(needs)}")
            waves.append(ready)
            done.update(ready)
            for name in ready:
                del needs[name]
        return waves

    def run(self, run_id: str, parameters: dict[str, str] | None = None) -> RunResult:
        """Run every task, two at a time where the DAG allows, as a backend would; stop at
        the first failed task."""
        declared = self.spec["root"]["inputDefinitions"]["parameters"]
        values = {n: d["defaultValue"] for n, d in declared.items() if "defaultValue" in d}
        values.update(parameters or {})
        result = RunResult(run_id, {})
        if self.metadata:
            self.metadata.start_run(run_id, values)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for wave in self.waves():
                outcomes = list(pool.map(lambda t: self._run_task(t, run_id, values, result), wave))
                for outcome in outcomes:
                    if isinstance(outcome, TaskResult):
                        result.tasks[outcome.name] = outcome
                    elif result.failed is None:
                        result.failed, result.stderr = outcome
                if result.failed:
                    break
        if self.metadata:
            self.metadata.finish_run(run_id, failed=result.failed is not None)
        return result

    def _run_task(self, task_name: str, run_id: str, values: dict, done: RunResult):
        root = self.spec["root"]
        task = root["dag"]["tasks"][task_name]
        component = self.spec["components"][task["componentRef"]["name"]]
        executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
        if "container" not in executor:
            return task_name, f"not a container task: {sorted(executor)}"
        pipeline_root = self.spec["defaultPipelineRoot"]
        task_root = f"{pipeline_root}/{self.spec['pipelineInfo']['name']}/{run_id}/{task_name}"
        pod_uid = str(uuid.uuid4())
        if self.target == "kfp":  # KFP's driver salts each task's output folder
            task_root += f"/{pod_uid[:8]}"
        parameters = _parameters(task, values)
        executor_input = {
            "inputs": {
                "parameterValues": parameters,
                "artifacts": _input_artifacts(task, done),
            },
            "outputs": {
                "artifacts": _output_artifacts(component, task_root, run_id, task_name),
                "outputFile": f"{task_root}/executor_output.json",
            },
        }
        serialized = self._local(json.dumps(executor_input))
        given = json.loads(serialized)["outputs"]
        for listing in given["artifacts"].values():
            os.makedirs(listing["artifacts"][0]["uri"], exist_ok=True)  # as KFP's launcher does
        started = time.monotonic()
        execution_id = None
        if self.metadata:
            inputs = {
                key: [done.tasks[source["taskOutputArtifact"]["producerTask"]].artifact_ids[
                    source["taskOutputArtifact"]["outputArtifactKey"]]]
                for key, source in task.get("inputs", {}).get("artifacts", {}).items()
            }  # fmt: skip
            execution_id = self.metadata.start_task(run_id, task_name, parameters, inputs, pod_uid)
        container = executor["container"]
        hooks = [container["lifecycle"]["preCacheCheck"]] if self._runs_lifecycle(container) else []
        for step in hooks + [container]:
            completed = self._execute(step, serialized, pod_uid)
            if completed.returncode != 0:
                if self.metadata:
                    self.metadata.finish_task(run_id, execution_id, {}, failed=True)
                return task_name, completed.stderr
        output_file = given["outputFile"]
        output = json.loads(open(output_file).read()) if os.path.exists(output_file) else {}
        merged = _merged_output(output, given["artifacts"])
        ids = {}
        if self.metadata:
            reported = {key: a["artifacts"][0] for key, a in merged["artifacts"].items()}
            ids = self.metadata.finish_task(run_id, execution_id, reported, failed=False)
        return TaskResult(task_name, time.monotonic() - started, merged, given["artifacts"], ids)

    def _runs_lifecycle(self, container: dict) -> bool:
        return self.target == "vertex" and "lifecycle" in container

    def _execute(self, step: dict, serialized: str, pod_uid: str) -> subprocess.CompletedProcess:
        args = [self._local(arg).replace("{{$}}", serialized) for arg in step.get("args", [])]
        command = [self._local(part) for part in step["command"]]
        for arg in command + args:
            if "{{$" in arg.replace(serialized, ""):
                raise TaskFailed(f"a placeholder this launcher does not fill: {arg[:200]}")
        if command[0] == "python":  # the image's python: here the environment's
            command[0] = sys.executable
        # Each pod has its own /tmp, gone with the pod: TFX builds an sdist of itself there
        # for every Beam task (49 MB a time), which would otherwise pile up in the machine's.
        pod_tmp = pathlib.Path(self.workdir) / "pod-tmp" / pod_uid
        pod_tmp.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TMPDIR=str(pod_tmp))
        env.pop(KFP_POD_UID_ENV, None)
        if self.target == "kfp":  # KFP's pods see their uid (the downward API)
            env[KFP_POD_UID_ENV] = pod_uid
        return subprocess.run(
            command + args, cwd=self.workdir, env=env, capture_output=True, text=True, timeout=900
        )


def _upstream(task: dict) -> list[str]:
    found = list(task.get("dependentTasks", []))
    for spec in task.get("inputs", {}).get("artifacts", {}).values():
        if "taskOutputArtifact" in spec:
            found.append(spec["taskOutputArtifact"]["producerTask"])
    return found


def _parameters(task: dict, values: dict) -> dict:
    resolved = {}
    for key, spec in task.get("inputs", {}).get("parameters", {}).items():
        if "componentInputParameter" in spec:
            resolved[key] = values[spec["componentInputParameter"]]
        elif "runtimeValue" in spec:
            resolved[key] = spec["runtimeValue"]["constant"]
        else:
            raise TaskFailed(f"parameter {key}: unsupported source {sorted(spec)}")
    return resolved


def _input_artifacts(task: dict, done: RunResult) -> dict:
    artifacts = {}
    for key, source in task.get("inputs", {}).get("artifacts", {}).items():
        producer = source["taskOutputArtifact"]["producerTask"]
        output_key = source["taskOutputArtifact"]["outputArtifactKey"]
        artifacts[key] = {
            "artifacts": done.tasks[producer].output["artifacts"][output_key]["artifacts"]
        }
    return artifacts


def _output_artifacts(component: dict, task_root: str, run_id: str, task_name: str) -> dict:
    outputs = {}
    for key, definition in component.get("outputDefinitions", {}).get("artifacts", {}).items():
        outputs[key] = {
            "artifacts": [
                {
                    "name": f"runs/{run_id}/artifacts/{task_name}-{key}",
                    "type": definition["artifactType"],
                    "uri": f"{task_root}/{key}",
                    "metadata": {},
                }
            ]
        }
    return outputs


def _merged_output(output: dict, given: dict) -> dict:
    """What the launcher records for each output: the artifact it handed over, with the uri and
    metadata the executor reported (its type and name stay the launcher's)."""
    merged = {"artifacts": {}}
    reported = output.get("artifacts", {})
    for key, listing in given.items():
        artifact = dict(listing["artifacts"][0])
        if key in reported and reported[key].get("artifacts"):
            back = reported[key]["artifacts"][0]
            artifact["uri"] = back.get("uri", artifact["uri"])
            artifact["metadata"] = back.get("metadata", {})
        merged["artifacts"][key] = {"artifacts": [artifact]}
    merged["parameterValues"] = output.get("parameterValues", {})
    return merged
