"""Kubeflow profiles: what differs from the local run, one YAML per target cluster.

Validated once, with errors naming the key. Anything that looks like a credential is refused:
the compiled spec is stored in the cluster and readable by everyone with access to runs, so
credentials belong in Kubernetes secrets exposed to the pods as environment variables or files.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

from pipeline.config import ConfigError, Reader, read_yaml

REMOTE_SCHEMES = ("gs://", "s3://")
# Runners a pipeline pod can use without reaching for a binary download; the in-process
# FnApiRunner suits small data inside the component's own pod.
KUBEFLOW_BEAM_RUNNERS = ("DataflowRunner", "FlinkRunner", "SparkRunner", "PortableRunner",
                         "FnApiRunner")
_SECRET_NAME = re.compile(
    r"(^|[_\-.])(password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|"
    r"credentials?|auth)($|[_\-.])", re.IGNORECASE)
_SECRET_VALUE = [
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # user:password@ in a URL
    re.compile(r"\b(ghp|gho|xox[abp])_?[A-Za-z0-9]{16,}"),  # GitHub / Slack tokens
]


class ProfileError(ConfigError):
    """A Kubeflow profile is unreadable, incomplete, local-only or holds a credential."""


@dataclasses.dataclass(frozen=True)
class Resources:
    cpu: str | None
    memory: str | None


@dataclasses.dataclass(frozen=True)
class KubeflowProfile:
    name: str
    image: str
    pipeline_root: str
    data_root: str
    serving_dir: str
    beam_runner: str
    beam_options: tuple[tuple[str, str], ...]
    resources: Resources
    enable_cache: bool

    @property
    def beam_args(self) -> list[str]:
        return [f"--runner={self.beam_runner}"] + [f"--{k}={v}" for k, v in self.beam_options]


def load_profile(path: str | pathlib.Path) -> KubeflowProfile:
    path = pathlib.Path(path)
    return profile_from_dict(read_yaml(path, "profile", ProfileError), source=str(path))


def profile_from_dict(raw: Any, source: str = "<profile>") -> KubeflowProfile:
    _refuse_secrets(raw, source, "")
    top = Reader(raw, "", source, ProfileError)

    def remote(reader: Reader, key: str) -> str:
        value = reader.get(key, str)
        if not value.startswith(REMOTE_SCHEMES):
            raise ProfileError(
                f"{source}: '{reader.key(key)}' must be on object storage "
                f"({' or '.join(REMOTE_SCHEMES)}), got {value!r}: a pipeline pod cannot see "
                "paths on this machine")
        return value.rstrip("/")

    name = top.get("name", str)
    image = top.get("image", str)
    if not re.fullmatch(r"[a-z0-9.\-:]+(/[A-Za-z0-9._\-]+)+(:[A-Za-z0-9._\-]+|@sha256:[0-9a-f]{64})",
                        image):
        raise ProfileError(f"{source}: 'image' must be a registry reference with a tag or "
                           f"digest (registry/path/name:tag), got {image!r}")
    if "metadata" in raw:
        raise ProfileError(f"{source}: 'metadata' is local-only (a SQLite path); on Kubeflow the "
                           "cluster's ML Metadata is used: remove the key")
    beam = top.child("beam")
    runner = beam.get("runner", str)
    if runner not in KUBEFLOW_BEAM_RUNNERS:
        raise ProfileError(f"{source}: 'beam.runner' must be one of {KUBEFLOW_BEAM_RUNNERS}, "
                           f"got {runner!r}")
    options = beam.get("options", dict, {})
    for key, value in options.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ProfileError(f"{source}: 'beam.options.{key}' must be a string or number")
    beam.done()
    resources = top.child("resources", {})
    profile = KubeflowProfile(
        name=name,
        image=image,
        pipeline_root=remote(top, "pipeline_root"),
        data_root=remote(top, "data_root"),
        serving_dir=remote(top, "serving_dir"),
        beam_runner=runner,
        beam_options=tuple(sorted((str(k), str(v)) for k, v in options.items())),
        resources=Resources(cpu=_quantity(resources, "cpu"), memory=_quantity(resources, "memory")),
        enable_cache=top.get("enable_cache", bool, False),
    )
    resources.done()
    top.done()
    return profile


def _quantity(reader: Reader, key: str) -> str | None:
    value = reader.get(key, (str, int), None)
    if value is not None and not re.fullmatch(r"\d+(\.\d+)?(m|[KMGT]i?)?", str(value)):
        raise ProfileError(f"{reader.source}: '{reader.key(key)}' is not a Kubernetes quantity: "
                           f"{value!r}")
    return None if value is None else str(value)


def _refuse_secrets(node: Any, source: str, where: str) -> None:
    """Refuse credential-like keys or values anywhere in the profile, naming the key only."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if _SECRET_NAME.search(str(key)):
                raise ProfileError(
                    f"{source}: '{path}' looks like a credential; it would be copied in plain "
                    "text into the compiled spec. Put it in a Kubernetes secret and expose it to "
                    "the pods as an environment variable or mounted file instead")
            _refuse_secrets(value, source, path)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _refuse_secrets(value, source, f"{where}[{index}]")
    elif isinstance(node, str) and any(p.search(node) for p in _SECRET_VALUE):
        raise ProfileError(
            f"{source}: the value of '{where}' looks like a credential; it would be copied in "
            "plain text into the compiled spec. Use a Kubernetes secret exposed as an "
            "environment variable or mounted file instead")
