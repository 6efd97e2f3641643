"""What a Kubeflow run takes from earlier runs: accepted-span records on object storage.

Locally, the gate's drift baseline and the training window come from resolvers that query ML
Metadata in-process (`span_window.py`). Kubeflow cannot run those: open-source KFP runs no
resolver at all, and Vertex runs only TFX's latest / latest-blessed queries, across every
pipeline of the project. So on Kubeflow the gate itself keeps the record: when it accepts span N
it writes `<records>/span-N.json` (where its AcceptedSpan and the span's Examples are), and when
it stops span N it deletes that record, so the latest verdict on a span wins, as locally. The
next run's gate reads the newest record below its span as its drift baseline, and
`SpanWindow` gathers the window's Examples from the records into one artifact for Transform.
"""

import json
import os
import re
import uuid

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts

from components.artifact_types import AcceptedSpan
from metadata import names

_RECORD = re.compile(r"^span-(\d+)\.json$")


def record_path(records_dir: str, span: int) -> str:
    return os.path.join(records_dir, f"span-{span}.json")


def write_accepted(records_dir: str, accepted: types.Artifact, examples: types.Artifact) -> None:
    """Record that `span` was accepted; written whole (one object) so no reader sees half."""
    span = accepted.get_int_custom_property(names.SPAN)
    record = {
        "span": span,
        "accepted_uri": accepted.uri,
        "examples_uri": examples.uri,
        "split_names": examples.split_names,
        "label_positive_rate": accepted.get_float_custom_property(names.LABEL_POSITIVE_RATE),
    }
    fileio.makedirs(records_dir)
    # A unique staging name: two gates writing one span never share a half-written file; on
    # object storage the rename is a copy of one whole object.
    staging = f"{record_path(records_dir, span)}.{uuid.uuid4().hex}.tmp"
    with fileio.open(staging, "w") as handle:
        handle.write(json.dumps(record, sort_keys=True))
    fileio.rename(staging, record_path(records_dir, span), overwrite=True)


def forget(records_dir: str, span: int) -> None:
    """The gate stopped `span`: it no longer serves as a baseline or enters a window."""
    if fileio.exists(record_path(records_dir, span)):
        fileio.remove(record_path(records_dir, span))


def accepted_spans(records_dir: str) -> dict[int, dict]:
    if not fileio.exists(records_dir):
        return {}
    found = {}
    for name in fileio.listdir(records_dir):
        match = _RECORD.match(name.rstrip("/"))
        if match:
            with fileio.open(os.path.join(records_dir, match.group(0)), "r") as handle:
                found[int(match.group(1))] = json.loads(handle.read())
    return found


def previous_accepted(records_dir: str, span: int) -> types.Artifact | None:
    """The AcceptedSpan of the newest accepted span below `span`, as the gate reads it."""
    earlier = {s: r for s, r in accepted_spans(records_dir).items() if s < span}
    if not earlier:
        return None
    record = earlier[max(earlier)]
    accepted = AcceptedSpan()
    accepted.uri = record["accepted_uri"]
    accepted.set_int_custom_property(names.SPAN, record["span"])
    if record.get("label_positive_rate") is not None:
        accepted.set_float_custom_property(names.LABEL_POSITIVE_RATE, record["label_positive_rate"])
    return accepted


def window_of(
    records: dict[int, dict], span: int, splits: list[str], num_spans: int
) -> list[tuple[int, str]]:
    """(span, Examples URI) of the newest `num_spans - 1` accepted spans before `span` that
    have every split `span` has, oldest first."""
    earlier = sorted(
        s
        for s, record in records.items()
        if s < span and set(splits) <= set(artifact_utils.decode_split_names(record["split_names"]))
    )
    keep = earlier[max(len(earlier) - (num_spans - 1), 0) :] if num_spans > 1 else []
    return [(s, records[s]["examples_uri"]) for s in keep]


@component
def SpanWindow(
    examples: InputArtifact[standard_artifacts.Examples],
    accepted: InputArtifact[AcceptedSpan],  # this span's verdict: orders the window after it
    window: OutputArtifact[standard_artifacts.Examples],
    records_dir: Parameter[str],
    num_spans: Parameter[int],
) -> None:
    """Copy this span's and the newest `num_spans - 1` earlier accepted spans' Examples into
    one artifact: Transform reads one Examples artifact per input on Kubeflow."""
    span = accepted.get_int_custom_property(names.SPAN)
    splits = artifact_utils.decode_split_names(examples.split_names)
    chosen = window_of(accepted_spans(records_dir), span, splits, num_spans)
    chosen.append((span, examples.uri))
    for split in splits:
        target = os.path.join(window.uri, f"Split-{split}")
        fileio.makedirs(target)
        for source_span, uri in chosen:
            source = os.path.join(uri, f"Split-{split}")
            for name in fileio.listdir(source):
                fileio.copy(
                    os.path.join(source, name),
                    os.path.join(target, f"span-{source_span}-{name}"),
                    overwrite=True,
                )
    window.split_names = examples.split_names
    for key, value in examples.mlmd_artifact.custom_properties.items():
        if key in ("payload_format", "file_format"):
            window.mlmd_artifact.custom_properties[key].CopyFrom(value)
    window.set_int_custom_property(names.SPAN, span)
    window.set_string_custom_property(names.WINDOW_SPANS, json.dumps([s for s, _ in chosen]))
