"""The namespace of this project's own artifact types, as ML Metadata and Kubeflow name them.

Kubeflow V2's container entrypoint (TFX 1.16) imports a custom artifact type by its type name,
which the compiler requires to be `<namespace>.<Class>` with exactly one dot: `tfxp.AcceptedSpan`
must therefore be importable from a top-level module `tfxp`. The class lives in
`components.artifact_types`; this module only names it, loaded on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "AcceptedSpan":
        from components.artifact_types import AcceptedSpan

        return AcceptedSpan
    raise AttributeError(f"module 'tfxp' has no attribute {name!r}")
