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

from pipeline.beam_options import beam_args
from pipeline.config import ConfigError, Reader, read_yaml

REMOTE_SCHEMES = ("gs://", "s3://")
# Runners a pipeline pod can use without reaching for a binary download; the in-process
# FnApiRunner suits small data inside the component's own pod.
KUBEFLOW_BEAM_RUNNERS = (
    "DataflowRunner",
    "FlinkRunner",
    "SparkRunner",
    "PortableRunner",
    "FnApiRunner",
)
# Key names are compared with separators removed and case folded, so `awsSecretAccessKey`,
# `aws_secret_access_key` and `AWS-SECRET` are all caught; short words only as a whole part of
# the name (`db_pass`, `sas`), so `bypass_cache` or `passes` stay allowed.
_SECRET_PARTS = ("pass", "pwd", "pw", "sas", "hmac", "psk", "jwt")
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "credential",
    "authtoken",
    "authkey",
    "authorization",
    "connectionstring",
    "accountkey",
    "sessionkey",
    "clientkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "privkey",
    "sharedkey",
    "bearer",
    "cookie",
)
_SECRET_VALUE = [
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids, long-term and temporary
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(
        r"[^\s/:@]+:(?!sha256:)[^\s/@]+@[\w.\-]"
    ),  # user:password@host, with or without scheme
    re.compile(r"\b(ghp|gho|ghs)_[A-Za-z0-9]{16,}|\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # GitHub, Slack
    re.compile(r"AccountKey=|SharedAccessSignature=|sig=[A-Za-z0-9%]{20,}", re.IGNORECASE),  # Azure
    re.compile(
        r"\"[A-Za-z_]*(secret|password|token|access_?key|credential)[A-Za-z_]*\"\s*:", re.IGNORECASE
    ),  # a credential field inside a JSON value
    # a flag or setting inside a value: --pass=..., --password VALUE, password: ..., PGPASSWORD=...
    re.compile(
        r"(^|[\s\-;,&?])[A-Za-z_]*(pass(word|wd)?|pwd|secret|token|api_?key)\s*[=:]\s*\S",
        re.IGNORECASE,
    ),
    re.compile(r"(^|\s)--?[\w-]*(pass(word|wd)?|pwd|secret|token|api-?key)\s+[^-\s]", re.I),
]


def _looks_secret(name: str) -> bool:
    folded = re.sub(r"[_\-.\s]", "", name).lower()
    parts = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return any(word in folded for word in _SECRET_WORDS) or any(
        part in _SECRET_PARTS for part in re.split(r"[_\-.\s]+", parts)
    )


class ProfileError(ConfigError):
    """A Kubeflow profile is unreadable, incomplete, local-only or holds a credential."""


@dataclasses.dataclass(frozen=True)
class Resources:
    cpu: str | None
    memory: str | None


@dataclasses.dataclass(frozen=True)
class SecretEnv:
    """An environment variable every task's pod reads from a Kubernetes secret (KFP only)."""

    env: str
    secret: str  # the Secret's name in the run's namespace
    key: str  # the key inside it


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
    serving_data_root: str | None = None  # CSV files seen at serving time: the skew check
    target: str = "vertex"  # vertex (Vertex AI Pipelines) or kfp (open-source Kubeflow)
    secret_env: tuple[SecretEnv, ...] = ()

    @property
    def beam_args(self) -> list[str]:
        """The local run's function, given this profile's runner, options and image."""
        return beam_args(self.beam_runner, dict(self.beam_options), image=self.image)


def load_profile(path: str | pathlib.Path) -> KubeflowProfile:
    path = pathlib.Path(path)
    return profile_from_dict(read_yaml(path, "profile", ProfileError), source=str(path))


def profile_from_dict(raw: Any, source: str = "<profile>") -> KubeflowProfile:
    if isinstance(raw, dict):  # names of secrets, not values: checked by their own rules
        _refuse_secrets({k: v for k, v in raw.items() if k != SECRET_ENV_KEY}, source, "")
    top = Reader(raw, "", source, ProfileError)

    def remote(reader: Reader, key: str) -> str:
        value = reader.get(key, str)
        if not value.startswith(REMOTE_SCHEMES):
            raise ProfileError(
                f"{source}: '{reader.key(key)}' must be on object storage "
                f"({' or '.join(REMOTE_SCHEMES)}), got {value!r}: a pipeline pod cannot see "
                "paths on this machine"
            )
        return value.rstrip("/")

    name = top.get("name", str)
    image = top.get("image", str)
    if not re.fullmatch(
        r"[a-z0-9.\-:]+(/[A-Za-z0-9._\-]+)+(:[A-Za-z0-9._\-]+|@sha256:[0-9a-f]{64})", image
    ):
        raise ProfileError(
            f"{source}: 'image' must be a registry reference with a tag or "
            f"digest (registry/path/name:tag), got {image!r}"
        )
    if "metadata" in raw:
        raise ProfileError(
            f"{source}: 'metadata' is local-only (a SQLite path); on Kubeflow the "
            "cluster's ML Metadata is used: remove the key"
        )
    beam = top.child("beam")
    runner = beam.get("runner", str)
    if runner not in KUBEFLOW_BEAM_RUNNERS:
        raise ProfileError(
            f"{source}: 'beam.runner' must be one of {KUBEFLOW_BEAM_RUNNERS}, got {runner!r}"
        )
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
        serving_data_root=remote(top, "serving_data_root") if "serving_data_root" in raw else None,
        target=_target(top),
        secret_env=_secret_env(top),
    )
    resources.done()
    top.done()
    return profile


TARGETS = ("vertex", "kfp")
SECRET_ENV_KEY = "env_from_kubernetes_secrets"
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SECRET_NAME = r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"  # a Kubernetes object name
_SECRET_KEY = r"[-._A-Za-z0-9]{1,253}"


def _secret_env(reader: Reader) -> tuple[SecretEnv, ...]:
    """`env_from_kubernetes_secrets: [{env: AWS_SECRET_ACCESS_KEY, secret: minio, key: sk}]`:
    the pods get the variable from the Secret; the spec holds only the three names."""
    entries = reader.get(SECRET_ENV_KEY, list, [])
    found = []
    for index, entry in enumerate(entries):
        where = f"{SECRET_ENV_KEY}[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"env", "secret", "key"}:
            raise ProfileError(
                f"{reader.source}: '{where}' must be a mapping with exactly env, secret and key"
            )
        for field, rule in (("env", _ENV_NAME), ("secret", _SECRET_NAME), ("key", _SECRET_KEY)):
            if not isinstance(entry[field], str) or not re.fullmatch(rule, entry[field]):
                raise ProfileError(
                    f"{reader.source}: '{where}.{field}' must be a name matching {rule}; "
                    "the secret's value stays in Kubernetes"
                )
        found.append(SecretEnv(entry["env"], entry["secret"], entry["key"]))
    return tuple(found)


def _target(reader: Reader) -> str:
    value = reader.get("target", str, "vertex")
    if value not in TARGETS:
        raise ProfileError(
            f"{reader.source}: 'target' must be one of {', '.join(TARGETS)}, got {value!r}"
        )
    return value


_QUANTITY = {"cpu": r"\d+(\.\d+)?m?", "memory": r"\d+(\.\d+)?([KMGT]i?)?"}


def _quantity(reader: Reader, key: str) -> str | None:
    value = reader.get(key, (str, int), None)
    if value is not None and not re.fullmatch(_QUANTITY[key], str(value)):
        raise ProfileError(
            f"{reader.source}: '{reader.key(key)}' is not a Kubernetes quantity: {value!r}"
        )
    return None if value is None else str(value)


def _refuse_secrets(node: Any, source: str, where: str) -> None:
    """Refuse credential-like keys or values anywhere in the profile, naming the key only."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if _looks_secret(str(key)):
                raise ProfileError(
                    f"{source}: '{path}' looks like a credential; it would be copied in plain "
                    "text into the compiled spec. Put it in a Kubernetes secret and expose it to "
                    "the pods as an environment variable or mounted file instead"
                )
            _refuse_secrets(value, source, path)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _refuse_secrets(value, source, f"{where}[{index}]")
    elif isinstance(node, str) and any(p.search(node) for p in _SECRET_VALUE):
        raise ProfileError(
            f"{source}: the value of '{where}' looks like a credential; it would be copied in "
            "plain text into the compiled spec. Use a Kubernetes secret exposed as an "
            "environment variable or mounted file instead"
        )
