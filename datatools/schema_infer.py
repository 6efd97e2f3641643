"""`tfxp schema infer`: a complete candidate schema, beside the curated one, for review.

The candidate has what TFDV infers (types, domains, presence) and what inference leaves out:
environments, integer codes the config calls categorical marked so, and a drift and a skew
comparator for every feature with its threshold measured from the data: the largest value
between consecutive spans (or, with one span, between its two halves), with a margin, each
explained in a comment above the feature. Inference only writes `<schema>.candidate.pbtxt` and
lists what differs from the curated file feature by feature (type, domain values, presence,
comparators, thresholds), so a person decides what changes in the curated file and commits it.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import pathlib
import tempfile

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.validation import SERVING, TRAINING, comparison
from datatools.statistics import example_statistics
from models import features as F
from pipeline import SETUP_FILE
from pipeline.config import PipelineConfig
from pipeline.csv_table import read_csv
from pipeline.schema import read_schema
from pipeline.spans import spans

MARGIN = 1.5  # a threshold sits this far above the largest value seen between spans
HALVES_MARGIN = 3.0  # ... or above the value between one span's halves (sampling noise only)
FLOOR = 0.1  # no threshold below this: a smaller move is noise on small spans
MOVES_BY_NATURE = 0.5  # a feature that moves this much between spans gets no comparator
CEILING = 0.5  # ... and no threshold above this: it could never fire
MIN_HALF_ROWS = 50  # fewer rows in each half of a lone span: nothing to measure drift on
HALVES = "the span's two halves"


@dataclasses.dataclass(frozen=True)
class Candidate:
    path: pathlib.Path
    changes: list[str]  # feature by feature, curated -> candidate; empty when they agree


def with_environments(schema: schema_pb2.Schema, config: PipelineConfig) -> schema_pb2.Schema:
    """Declare TRAINING and SERVING; the label's own column is not expected at serving time."""
    curated = schema_pb2.Schema()
    curated.CopyFrom(schema)
    for env in (TRAINING, SERVING):
        if env not in curated.default_environment:
            curated.default_environment.append(env)
    for feature in curated.feature:
        if feature.name == config.model.label.column and SERVING not in feature.not_in_environment:
            feature.not_in_environment.append(SERVING)
    return curated


def infer_candidate(config: PipelineConfig) -> Candidate:
    """Infer a schema from every span's CSV files, measure each feature's drift between
    spans, and write the candidate beside the curated schema."""
    import tensorflow_data_validation as tfdv

    folders = spans(config.data_root)  # a clear error for a data folder without spans
    beam_args = config.beam.args(SETUP_FILE)
    stats = example_statistics(
        config.data_root, "span-*/*.csv", beam_args, na_values=config.na_values
    )
    candidate = with_environments(tfdv.infer_schema(stats), config)
    _mark_categorical_codes(candidate, config)
    notes = _add_comparators(candidate, folders, config, beam_args)
    path = config.schema_file.with_name(config.schema_file.stem + ".candidate.pbtxt")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_with_notes(candidate, notes), encoding="utf-8")
    curated = _read(config.schema_file)
    return Candidate(path=path, changes=schema_changes(curated, candidate))


def _mark_categorical_codes(schema: schema_pb2.Schema, config: PipelineConfig) -> None:
    """Integer columns the config calls categorical (hour, day, area codes) are categories:
    counted and compared as such, not as numbers."""
    categorical = {f.name for f in config.model.features if f.kind == F.CATEGORICAL}
    for feature in schema.feature:
        if feature.name in categorical and feature.type == schema_pb2.INT:
            feature.int_domain.is_categorical = True


def _is_categorical(feature: schema_pb2.Feature) -> bool:
    return feature.type == schema_pb2.BYTES or feature.int_domain.is_categorical


def _add_comparators(
    schema: schema_pb2.Schema, folders: dict[int, pathlib.Path], config, beam_args
) -> dict[str, str]:
    """A drift and a skew comparator on every feature, the threshold measured; a note per
    feature saying how."""
    measuring = schema_pb2.Schema()
    measuring.CopyFrom(schema)
    for feature in measuring.feature:
        _set_comparators(feature, 1.0)  # measure everything, flag nothing
    pairs, how, margin = _measured_pairs(folders, measuring, config, beam_args)
    largest: dict[str, tuple[float, str]] = {}
    for label, before, after in pairs:
        for m in comparison(after, measuring, before, "drift")[1]:
            if m.feature not in largest or m.value > largest[m.feature][0]:
                largest[m.feature] = (m.value, label)
    notes = {}
    for feature in schema.feature:
        kind = "L-infinity" if _is_categorical(feature) else "Jensen-Shannon divergence"
        if feature.name not in largest:
            notes[feature.name] = (
                f"{feature.name}: no comparator: no drift measured to set one by ({how})"
            )
            continue
        value, where = largest[feature.name]
        if value >= MOVES_BY_NATURE:
            why = (
                "it moves between spans by nature"
                if pairs[0][0] != HALVES
                else ("its two halves differ that much: the rows are ordered, or too few")
            )
            notes[feature.name] = (
                f"{feature.name}: no comparator: {why} ({kind} {value:.3f}, {where}); add one "
                "by hand if it should have one"
            )
            continue
        threshold = min(max(math.ceil(value * margin * 100) / 100, FLOOR), CEILING)
        _set_comparators(feature, threshold)
        checks = "drift and skew"
        if SERVING in feature.not_in_environment:  # the label's column: never served
            feature.ClearField("skew_comparator")
            checks = "drift (absent at serving: no skew)"
        notes[feature.name] = (
            f"{feature.name}: {checks} by {kind}, threshold {threshold:g}: the largest "
            f"measured was {value:.3f} ({where}), x{margin:g}, at least {FLOOR:g}"
        )
    return notes


def _measured_pairs(folders, schema, config, beam_args):
    """(label, before, after) statistics to measure drift on: consecutive spans, or the two
    halves of the only span (its rows alternately)."""
    if len(folders) > 1:
        stats = {
            span: example_statistics(folder, "*.csv", beam_args, schema, config.na_values)
            for span, folder in folders.items()
        }
        numbers = sorted(stats)
        pairs = [
            (f"span {a} to {b}", stats[a], stats[b])
            for a, b in zip(numbers, numbers[1:], strict=False)
        ]
        return pairs, "between consecutive spans", MARGIN
    (folder,) = folders.values()
    tables = [read_csv(path, config.na_values) for path in sorted(folder.glob("*.csv"))]
    if sum(len(t.rows) for t in tables) < 2 * MIN_HALF_ROWS:
        return [], f"one span of fewer than {2 * MIN_HALF_ROWS} rows", HALVES_MARGIN
    with tempfile.TemporaryDirectory() as tmp:
        halves = []
        for half in (0, 1):
            out = pathlib.Path(tmp) / f"half-{half}"
            out.mkdir()
            for table in tables:
                with open(out / table.path.name, "w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(table.header)
                    writer.writerows(c for i, (_, c) in enumerate(table.rows) if i % 2 == half)
            halves.append(example_statistics(out, "*.csv", beam_args, schema, config.na_values))
    return [(HALVES, halves[0], halves[1])], "the span's halves", HALVES_MARGIN


def _set_comparators(feature: schema_pb2.Feature, threshold: float) -> None:
    for comparator in (feature.drift_comparator, feature.skew_comparator):
        comparator.Clear()
        if _is_categorical(feature):
            comparator.infinity_norm.threshold = threshold
        else:
            comparator.jensen_shannon_divergence.threshold = threshold


def _with_notes(schema: schema_pb2.Schema, notes: dict[str, str]) -> str:
    """The schema as text, each feature preceded by its note as a comment (TFDV's text
    parser skips comments)."""
    header = (
        "# Candidate schema from `tfxp schema infer`: review, then copy what you accept into the\n"
        "# curated schema. Thresholds are measured from this data; each is explained below.\n"
    )
    blocks = []
    for feature in schema.feature:
        note = notes.get(feature.name)
        text = text_format.MessageToString(schema_pb2.Schema(feature=[feature]))
        blocks.append((f"# {note}\n" if note else "") + text)
    rest = schema_pb2.Schema()
    rest.CopyFrom(schema)
    del rest.feature[:]
    return header + "".join(blocks) + text_format.MessageToString(rest)


def _read(path: pathlib.Path) -> schema_pb2.Schema:
    return read_schema(path) if path.exists() else schema_pb2.Schema()  # none curated yet


def schema_changes(curated: schema_pb2.Schema, candidate: schema_pb2.Schema) -> list[str]:
    """What the candidate changes, feature by feature, as a person reviews it."""
    before = {f.name: f for f in curated.feature}
    after = {f.name: f for f in candidate.feature}
    lines = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            lines.append(f"- {name}: in the curated schema, not in the data")
        elif name not in before:
            lines.append(f"+ {name}: new, {_describe(after[name], candidate)}")
        else:
            lines += [
                f"~ {name}: {change}"
                for change in _feature_changes(before[name], curated, after[name], candidate)
            ]
    return lines


def _describe(feature: schema_pb2.Feature, schema: schema_pb2.Schema) -> str:
    values = _domain(feature, schema)
    domain = f", {len(values)} values" if values else ""
    return f"{schema_pb2.FeatureType.Name(feature.type)}{domain}, {_comparator(feature)}"


def _feature_changes(a, schema_a, b, schema_b) -> list[str]:
    changes = []
    if a.type != b.type:
        changes.append(
            f"type {schema_pb2.FeatureType.Name(a.type)} -> {schema_pb2.FeatureType.Name(b.type)}"
        )
    if _is_categorical(a) != _is_categorical(b):
        changes.append(f"categorical {_is_categorical(a)} -> {_is_categorical(b)}")
    added = sorted(_domain(b, schema_b) - _domain(a, schema_a))
    removed = sorted(_domain(a, schema_a) - _domain(b, schema_b))
    if added:
        changes.append(f"domain +{len(added)}: {_few(added)}")
    if removed:
        changes.append(f"domain -{len(removed)}: {_few(removed)}")
    mass = (a.distribution_constraints.min_domain_mass, b.distribution_constraints.min_domain_mass)
    if mass[0] != mass[1]:
        changes.append(f"min domain mass {mass[0]:g} -> {mass[1]:g}")
    if a.presence.min_fraction != b.presence.min_fraction:
        changes.append(f"presence {a.presence.min_fraction:g} -> {b.presence.min_fraction:g}")
    drift = _comparator(a, "drift_comparator"), _comparator(b, "drift_comparator")
    skew = _comparator(a, "skew_comparator"), _comparator(b, "skew_comparator")
    if drift == skew and drift[0] != drift[1]:
        changes.append(f"drift and skew {drift[0]} -> {drift[1]}")
    else:
        changes += [
            f"{which} {old} -> {new}"
            for which, (old, new) in (("drift", drift), ("skew", skew))
            if old != new
        ]
    if a.lifecycle_stage != b.lifecycle_stage:
        changes.append(
            f"lifecycle {schema_pb2.LifecycleStage.Name(a.lifecycle_stage)} -> "
            f"{schema_pb2.LifecycleStage.Name(b.lifecycle_stage)}"
        )
    if list(a.not_in_environment) != list(b.not_in_environment):
        changes.append(
            f"not in environment {list(a.not_in_environment)} -> {list(b.not_in_environment)}"
        )
    return changes


def _domain(feature: schema_pb2.Feature, schema: schema_pb2.Schema) -> set[str]:
    if feature.HasField("string_domain"):
        return set(feature.string_domain.value)
    if feature.domain:
        found = [d for d in schema.string_domain if d.name == feature.domain]
        return set(found[0].value) if found else set()
    return set()


def _comparator(feature: schema_pb2.Feature, which: str = "drift_comparator") -> str:
    if not feature.HasField(which):
        return "no comparator"
    comparator = getattr(feature, which)
    if comparator.HasField("infinity_norm"):
        return f"L-infinity {comparator.infinity_norm.threshold:g}"
    if comparator.HasField("jensen_shannon_divergence"):
        return f"Jensen-Shannon {comparator.jensen_shannon_divergence.threshold:g}"
    return "a comparator"


def _few(values: list[str], shown: int = 5) -> str:
    more = f", ... ({len(values) - shown} more)" if len(values) > shown else ""
    return ", ".join(values[:shown]) + more
