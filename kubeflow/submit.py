"""Start a run of a compiled pipeline on a Kubeflow Pipelines (v2) endpoint with the kfp client."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import tempfile
import urllib.error
import urllib.request

import yaml


class SubmitError(RuntimeError):
    """The spec is unreadable, a parameter is unknown, or the endpoint cannot be reached."""


@dataclasses.dataclass(frozen=True)
class SubmittedRun:
    run_id: str
    url: str
    parameters: dict[str, str]


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SubmitError(f"--param {pair!r}: expected NAME=VALUE")
        params[name] = value
    return params


def read_spec(spec_file: pathlib.Path) -> tuple[dict, dict[str, str]]:
    """The PipelineSpec and its parameter defaults, from `tfxp compile`'s JSON or YAML."""
    try:
        text = spec_file.read_text()
    except FileNotFoundError:
        raise SubmitError(f"{spec_file}: no compiled spec; run `tfxp compile` first") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SubmitError(f"{spec_file}: cannot read the spec: {err}") from None
    try:
        doc = json.loads(text) if spec_file.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise SubmitError(
            f"{spec_file}: not a compiled spec ({str(err).splitlines()[0]})"
        ) from None
    if not isinstance(doc, dict) or "root" not in doc.get("pipelineSpec", doc):
        raise SubmitError(f"{spec_file}: not a compiled pipeline spec; run `tfxp compile` again")
    spec = doc.get("pipelineSpec", doc)  # JSON holds a PipelineJob, YAML the spec alone
    declared = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    defaults = {name: d["defaultValue"] for name, d in declared.items() if "defaultValue" in d}
    return spec, defaults


def submit(
    host: str,
    spec_file: pathlib.Path,
    params: dict[str, str],
    experiment: str | None = None,
    run_name: str | None = None,
) -> SubmittedRun:
    spec, defaults = read_spec(spec_file)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise SubmitError(
            f"unknown parameter(s) {', '.join(unknown)}; the pipeline declares "
            f"{', '.join(sorted(defaults)) or 'none'}"
        )
    host = host.rstrip("/")
    _check_reachable(host)
    import kfp

    client = kfp.Client(host=host)
    arguments = {**defaults, **params}
    with tempfile.TemporaryDirectory() as tmp:
        package = pathlib.Path(tmp) / "pipeline.yaml"  # the kfp client reads YAML specs only
        package.write_text(yaml.safe_dump(spec, sort_keys=True))
        result = client.create_run_from_pipeline_package(
            str(package),
            arguments=arguments,
            run_name=run_name,
            experiment_name=experiment or "Default",
            pipeline_root=spec.get("defaultPipelineRoot"),
        )
    return SubmittedRun(result.run_id, f"{host}/#/runs/details/{result.run_id}", arguments)


def _check_reachable(host: str) -> None:
    """One quick request first: the kfp client retries an unreachable host for ~25 s and
    then raises a TimeoutError with a traceback per attempt."""
    try:
        with urllib.request.urlopen(f"{host}/apis/v2beta1/healthz", timeout=10) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise SubmitError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None
