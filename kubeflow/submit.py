"""Start a run of a compiled pipeline: on open-source Kubeflow Pipelines with the kfp client, on
Vertex AI Pipelines with google-cloud-aiplatform's PipelineJob.

Credentials never pass through a flag's value (shell history) or the spec: KFP's bearer token
comes from a file or an environment variable, Vertex uses Application Default Credentials, and
the pods run as the service account given. What made the run (the source facts `tfxp compile`
wrote into the spec, its hash and image) travels with it in the `provenance` parameter, and as
labels on Vertex. Caching is off: a cached ExampleGen would hand old examples to changed files.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import pathlib
import re
import tempfile
import urllib.error
import urllib.request

import yaml

from kubeflow.compile import PROVENANCE_PARAM, RANGE_CONFIG_PARAM

TOKEN_ENV = "KFP_BEARER_TOKEN"  # a bearer token for KFP behind an authenticating proxy
TOKEN_FILE_ENV = "KF_PIPELINES_SA_TOKEN_PATH"  # the kfp client's own: a mounted token file


class SubmitError(RuntimeError):
    """The spec is unreadable, a parameter is unknown, or the endpoint refused or cannot be
    reached."""


@dataclasses.dataclass(frozen=True)
class SubmittedRun:
    run_id: str
    url: str
    parameters: dict[str, str]


@dataclasses.dataclass(frozen=True)
class KfpTarget:
    host: str
    namespace: str | None = None
    token_file: pathlib.Path | None = None
    experiment: str | None = None


@dataclasses.dataclass(frozen=True)
class VertexTarget:
    project: str
    region: str
    service_account: str | None = None
    endpoint: str | None = None  # the API endpoint; default: the region's


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SubmitError(f"--param {pair!r}: expected NAME=VALUE")
        params[name] = value
    return params


def read_spec(spec_file: pathlib.Path) -> tuple[dict, dict[str, str], dict | None]:
    """The PipelineSpec, its parameter defaults and its Kubernetes platform spec (if any), from
    `tfxp compile`'s JSON or YAML."""
    try:
        text = spec_file.read_text()
    except FileNotFoundError:
        raise SubmitError(f"{spec_file}: no compiled spec; run `tfxp compile` first") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SubmitError(f"{spec_file}: cannot read the spec: {err}") from None
    try:
        if spec_file.suffix == ".json":
            doc = json.loads(text)
            platform = doc.get("platformSpec") if isinstance(doc, dict) else None
        else:
            doc, platform, *_ = [*yaml.safe_load_all(text), None, None]
    except (ValueError, yaml.YAMLError) as err:
        raise SubmitError(
            f"{spec_file}: not a compiled spec ({str(err).splitlines()[0]})"
        ) from None
    if not isinstance(doc, dict) or "root" not in doc.get("pipelineSpec", doc):
        raise SubmitError(f"{spec_file}: not a compiled pipeline spec; run `tfxp compile` again")
    spec = doc.get("pipelineSpec", doc)  # JSON holds a PipelineJob, YAML the spec alone
    declared = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    defaults = {name: d["defaultValue"] for name, d in declared.items() if "defaultValue" in d}
    return spec, defaults, platform


def backend(chosen: str | None, kfp: KfpTarget, vertex: VertexTarget) -> KfpTarget | VertexTarget:
    """The target `--target` names, else Vertex when a project is given, else KFP; refused
    in one line when its required options are missing."""
    name = chosen or ("vertex" if vertex.project else "kfp")
    where = {"kfp": kfp, "vertex": vertex}[name]
    needed = ("host",) if name == "kfp" else ("project", "region")
    missing = [f"--{field}" for field in needed if not getattr(where, field)]
    if missing:
        raise SubmitError(f"tfxp submit --target {name} needs {' and '.join(missing)}")
    return where


def submit(
    where: KfpTarget | VertexTarget,
    spec_file: pathlib.Path,
    params: dict[str, str],
    name: str | None = None,
) -> SubmittedRun:
    run = submit_kfp if isinstance(where, KfpTarget) else submit_vertex
    return run(where, spec_file, params, name=name)


def span_param(span: int | None) -> dict[str, str]:
    """`--span N` as the pipeline's `range_config` parameter; none: the newest span."""
    if span is None:
        return {}
    if span < 0:
        raise SubmitError(f"--span must be a span number >= 0, got {span}")
    static = {"start_span_number": span, "end_span_number": span}
    return {RANGE_CONFIG_PARAM: json.dumps({"static_range": static}, sort_keys=True)}


def run_name(spec: dict, given: str | None = None, now: datetime.datetime | None = None) -> str:
    """`given`, or `<pipeline>-<UTC time>`: sortable; checked against Vertex's job id rule,
    which is also a valid KFP run name."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    name = given or f"{spec['pipelineInfo']['name']}-{now:%Y%m%d-%H%M%S}"
    if not re.fullmatch(r"[a-z][-a-z0-9]{0,127}", name):
        raise SubmitError(
            f"run name {name!r}: use lower-case letters, digits and '-', starting with a letter"
        )
    return name


def provenance(spec: dict, compiled: str) -> dict[str, str]:
    """What made the run: the source facts `tfxp compile` recorded, the spec's hash and the
    image it runs."""
    images = sorted({e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()})
    spec_text = json.dumps(spec, sort_keys=True)
    return {
        **json.loads(compiled or "{}"),
        "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "image": ",".join(images),
    }


def labels(facts: dict[str, str]) -> dict[str, str]:
    """Provenance as Vertex labels: lower-case keys and values, at most 63 characters."""

    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:63]

    return {clean(f"tfxp-{key}"): clean(value) for key, value in facts.items() if value}


def arguments(
    spec_file: pathlib.Path, params: dict[str, str]
) -> tuple[dict, dict[str, str], dict | None]:
    """The spec, every parameter's value (the run's provenance in `provenance`) and the
    platform spec."""
    spec, defaults, platform = read_spec(spec_file)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise SubmitError(
            f"unknown parameter(s) {', '.join(unknown)}; the pipeline declares "
            f"{', '.join(sorted(defaults)) or 'none'}"
        )
    values = {**defaults, **params}
    if PROVENANCE_PARAM in defaults and PROVENANCE_PARAM not in params:
        facts = provenance(spec, defaults[PROVENANCE_PARAM])
        values[PROVENANCE_PARAM] = json.dumps(facts, sort_keys=True)
    return spec, values, platform


def submit_kfp(
    target: KfpTarget,
    spec_file: pathlib.Path,
    params: dict[str, str],
    name: str | None = None,
) -> SubmittedRun:
    spec, values, platform = arguments(spec_file, params)
    name = run_name(spec, name)
    host = target.host.rstrip("/")
    token = _bearer_token(target.token_file)
    _check_reachable(host, token)
    import kfp
    import urllib3
    from kfp_server_api.exceptions import ApiException

    client = kfp.Client(host=host, namespace=target.namespace, existing_token=token)
    with tempfile.TemporaryDirectory() as tmp:
        package = pathlib.Path(tmp) / "pipeline.yaml"  # the kfp client reads YAML specs only
        documents = [spec] + ([platform] if platform else [])  # KFP's package layout
        package.write_text(yaml.safe_dump_all(documents, sort_keys=True))
        try:
            result = client.create_run_from_pipeline_package(
                str(package),
                arguments=values,
                run_name=name,
                experiment_name=target.experiment or "Default",
                namespace=target.namespace,
                pipeline_root=spec.get("defaultPipelineRoot"),
                enable_caching=False,
            )
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as err:
            reason = _reason(err)
            raise SubmitError(f"Kubeflow Pipelines at {host} refused the run: {reason}") from None
    return SubmittedRun(result.run_id, f"{host}/#/runs/details/{result.run_id}", values)


def submit_vertex(
    target: VertexTarget,
    spec_file: pathlib.Path,
    params: dict[str, str],
    name: str | None = None,
) -> SubmittedRun:
    spec, values, platform = arguments(spec_file, params)
    if platform:
        raise SubmitError(
            f"{spec_file}: compiled for open-source KFP (it mounts Kubernetes secrets); "
            "compile with --target vertex"
        )
    import google.auth
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.cloud import aiplatform

    job_id = run_name(spec, name)
    try:
        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        aiplatform.init(
            project=target.project,
            location=target.region,
            credentials=credentials,
            api_endpoint=target.endpoint,
            api_transport="rest",
        )
        job = aiplatform.PipelineJob(
            display_name=job_id,
            template_path=str(spec_file),
            job_id=job_id,
            pipeline_root=spec.get("defaultPipelineRoot"),
            parameter_values=values,
            enable_caching=False,
            labels=labels(json.loads(values.get(PROVENANCE_PARAM, "{}"))),
        )
        job.submit(service_account=target.service_account)
    except auth_exceptions.DefaultCredentialsError:
        raise SubmitError(
            "no Google Cloud credentials: run `gcloud auth application-default login` or set "
            "GOOGLE_APPLICATION_CREDENTIALS to a key file"
        ) from None
    except (api_exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError, OSError) as err:
        raise SubmitError(f"Vertex AI refused the run: {_reason(err)}") from None
    except ValueError as err:  # aiplatform checks region and job id itself, with ValueError
        raise SubmitError(f"Vertex AI: {' '.join(str(err).split())[:300]}") from None
    url = (
        f"https://console.cloud.google.com/vertex-ai/locations/{target.region}/pipelines/runs/"
        f"{job_id}?project={target.project}"
    )
    return SubmittedRun(job.resource_name, url, values)


def _bearer_token(token_file: pathlib.Path | None) -> str | None:
    """From `--token-file`, else $KFP_BEARER_TOKEN, else the file the kfp client's own
    variable names."""
    if token_file is None and os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = token_file or (
        pathlib.Path(os.environ[TOKEN_FILE_ENV]) if os.environ.get(TOKEN_FILE_ENV) else None
    )
    if path is None:
        return None
    try:
        return path.read_text().strip()
    except OSError as err:
        raise SubmitError(f"{path}: cannot read the token file: {err.strerror}") from None


def _reason(err: Exception) -> str:
    """The server's own message, on one line. Never `str()` of a kfp ApiException: it holds
    the response headers (a proxy's cookies among them)."""
    text = getattr(err, "body", None) or getattr(err, "message", None)
    if not text:
        text = getattr(err, "reason", None) or type(err).__name__
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    try:
        parsed = json.loads(text)
        text = parsed.get("message") or parsed.get("error", {}).get("message") or text
    except (ValueError, AttributeError, TypeError):
        pass
    status = getattr(err, "status", None) or getattr(err, "code", None)
    line = " ".join(str(text).split())[:300]
    return f"{status} {line}" if status else line


def _check_reachable(host: str, token: str | None) -> None:
    """One quick request first: the kfp client retries an unreachable host for ~25 s and
    then raises a TimeoutError with a traceback per attempt."""
    request = urllib.request.Request(f"{host}/apis/v2beta1/healthz")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as err:
        if err.code in (401, 403):
            raise SubmitError(
                f"Kubeflow Pipelines at {host} refused the credentials ({err.code}); set "
                f"{TOKEN_ENV} or pass --token-file"
            ) from None
        reason = f"{err.code} {err.reason}"
        raise SubmitError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise SubmitError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None
