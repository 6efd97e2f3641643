"""Validation: what the data gate checks, with which limits, and what it decides.

The limits (`Validation`, the config's `validation:` section) and the decisions, as plain
functions of statistics, anomalies and label counts. No TFX here: the gate component
(`example_gate.py`) does the reading and writing, `tfxp validate` reuses the same checks, and
the unit tests call these directly. Drift and skew thresholds live in the curated schema.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from metadata import names
from models import features as F

# Schema environments: data for training carries the label's column, serving data does not.
TRAINING = "TRAINING"
SERVING = "SERVING"

# The gate's own finding kinds, beside TFDV's anomaly types.
TOO_FEW_EXAMPLES = "TOO_FEW_EXAMPLES"
LABEL_MISSING = "LABEL_MISSING"
LABEL_RATE_CHANGE = "LABEL_RATE_CHANGE"
LABEL_SPLIT_GAP = "LABEL_SPLIT_GAP"
LABEL_UNKNOWN_CLASS = "LABEL_UNKNOWN_CLASS"
NON_FINITE = "NON_FINITE_VALUES"
KINDS = (
    frozenset(anomalies_pb2.AnomalyInfo.Type.keys())
    | {f"SKEW_{k}" for k in anomalies_pb2.AnomalyInfo.Type.keys() if k.startswith("COMPARATOR_")}
    | {"ANOMALY", TOO_FEW_EXAMPLES, LABEL_MISSING, LABEL_RATE_CHANGE, LABEL_SPLIT_GAP, NON_FINITE}
    | {LABEL_UNKNOWN_CLASS}
)


@dataclasses.dataclass(frozen=True)
class LabelLimits:
    """How often the label may be missing and how far its positive rate may move."""

    max_missing_rate: float  # share of rows without the label column, per split
    max_rate_change: float  # train positive rate, against the last accepted span's
    max_split_gap: float  # eval positive rate against train's: the split must stay balanced


@dataclasses.dataclass(frozen=True)
class Validation:
    """What the data gate stops on (the config's `validation:`).

    `allow` lists findings accepted on purpose, each `KIND:FEATURE` (FEATURE may be `*`).
    It crosses into the gate as JSON (a component parameter) and is read back typed.
    """

    min_examples_per_split: int
    label: LabelLimits
    allow: tuple[str, ...] = ()
    split_shares: tuple[tuple[str, float], ...] = ()  # each split's share of a span, by hash

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Validation:
        raw = json.loads(text)
        return cls(
            min_examples_per_split=raw["min_examples_per_split"],
            label=LabelLimits(**raw["label"]),
            allow=tuple(raw["allow"]),
            split_shares=tuple((name, share) for name, share in raw.get("split_shares", ())),
        )


_METRIC_NAMES = {
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: "L-infinity distance",
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: "Jensen-Shannon divergence",
    anomalies_pb2.DriftSkewInfo.Measurement.NORMALIZED_ABSOLUTE_DIFFERENCE: (
        "normalized absolute difference"
    ),
}


@dataclasses.dataclass(frozen=True)
class Finding:
    split: str
    feature: str
    kind: str
    description: str

    def __str__(self) -> str:
        return f"split '{self.split}', feature '{self.feature}': {self.kind}: {self.description}"

    def allowed_by(self, allow: Iterable[str]) -> str | None:
        """The `KIND:FEATURE` entry that accepts this finding, if any."""
        for entry in allow:
            kind, _, feature = entry.partition(":")
            if kind == self.kind and feature in (self.feature, "*"):
                return entry
        return None


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One comparator value: drift (against the last accepted span) or skew (against serving)."""

    feature: str
    check: str  # "drift" or "skew"
    metric: str
    value: float
    threshold: float

    @property
    def exceeded(self) -> bool:
        return self.value > self.threshold


@dataclasses.dataclass(frozen=True)
class LabelCounts:
    """One split's label: rows, missing values and, by kind, positives (binary) or the rows
    of each class (multiclass, in `classes` order; `unknown` holds a value outside them)."""

    rows: int
    missing: int
    positives: int
    classes: tuple[int, ...] = ()
    unknown: int = 0
    kind: str = F.BINARY
    class_names: tuple[str, ...] = ()

    def share(self, index: int) -> float:
        return self.classes[index] / self.rows if self.rows else 0.0

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    @property
    def positive_rate(self) -> float:
        return self.positives / self.rows if self.rows else 0.0


def count_labels(batches: Iterable[tuple[int, Mapping[str, Any]]], label: Any) -> LabelCounts:
    """Rows, rows without the label column's value, and positives by the training rule itself
    (`models.preprocessing.derive_label`, on the model's `Label`): how the gate counts the
    examples ExampleGen wrote and `tfxp validate` counts a CSV file.

    Each batch is (rows, columns): the label's source columns as [rows, 1] SparseTensors that
    hold only the values present, as `tf.io.VarLenFeature` parses them.
    """
    import numpy as np

    from models.preprocessing import derive_label

    rows = missing = positives = 0
    classes = [0] * len(label.classes)
    for size, columns in batches:
        present = len(set(columns[label.column].indices[:, 0].numpy().tolist()))
        rows, missing = rows + size, missing + size - present
        if not size or label.kind == F.REGRESSION:
            continue
        derived = derive_label(columns, label).numpy()
        if label.kind == F.MULTICLASS:
            counted = np.bincount(derived[derived >= 0], minlength=len(classes))
            classes = [c + int(n) for c, n in zip(classes, counted, strict=True)]
        else:
            positives += int(derived.sum())
    unknown = rows - missing - sum(classes) if label.kind == F.MULTICLASS else 0
    return LabelCounts(
        rows=rows,
        missing=missing,
        positives=positives,
        classes=tuple(classes),
        unknown=unknown,
        kind=label.kind,
        class_names=tuple(label.classes),
    )


def anomaly_findings(
    split: str,
    anomalies: anomalies_pb2.Anomalies,
    only_comparators: bool = False,
    kind_prefix: str = "",
) -> list[Finding]:
    """One finding per anomaly reason of each feature (and dataset-level anomalies).

    `kind_prefix` marks comparisons against serving data (SKEW_...): TFDV gives drift and skew
    the same kinds.
    """
    findings = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        for reason in info.reason or [None]:
            kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type) if reason else "ANOMALY"
            description = (reason.description if reason else "") or info.description
            findings.append(Finding(split, feature, kind, description))
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        for reason in info.reason:
            findings.append(
                Finding(
                    split,
                    "<dataset>",
                    anomalies_pb2.AnomalyInfo.Type.Name(reason.type),
                    reason.description or info.description,
                )
            )
    if only_comparators:
        findings = [f for f in findings if f.kind.startswith("COMPARATOR_")]
    if kind_prefix:
        findings = [dataclasses.replace(f, kind=kind_prefix + f.kind) for f in findings]
    return findings


def with_quantile_histograms(
    stats: statistics_pb2.DatasetFeatureStatisticsList,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics whose numeric histogram is the quantile one, for TFDV's Jensen-Shannon.

    TFDV compares numeric features on equal-width histograms: one outlier (a $700 fare) squeezes
    nearly every value into the first bucket, and two unchanged spans measure a divergence of
    0.4-0.75 on the bundled data. Quantile buckets follow the mass and measure 0.04-0.13.
    """
    result = statistics_pb2.DatasetFeatureStatisticsList()
    result.CopyFrom(stats)
    for dataset in result.datasets:
        for feature in dataset.features:
            histograms = feature.num_stats.histograms
            quantiles = [h for h in histograms if h.type == statistics_pb2.Histogram.QUANTILES]
            if quantiles:
                histogram = statistics_pb2.Histogram()
                histogram.CopyFrom(quantiles[0])
                histogram.type = statistics_pb2.Histogram.STANDARD
                del histograms[:]
                histograms.append(histogram)
    return result


def training_environment(schema) -> str | None:
    """TRAINING when the schema declares environments (TFDV refuses an undeclared one)."""
    return TRAINING if TRAINING in schema.default_environment else None


def comparison(current, schema, baseline, check: str) -> tuple[list[Finding], list[Measurement]]:
    """Drift (`check` "drift": `baseline` is the earlier data) or skew ("skew": serving data)
    of `current`, by the schema's comparators on quantile histograms: findings (skew ones as
    SKEW_...) and every value measured. The one way the gate and `tfxp validate` compare."""
    import tensorflow_data_validation as tfdv

    other = {
        "previous_statistics"
        if check == "drift"
        else "serving_statistics": with_quantile_histograms(baseline)
    }
    anomalies = tfdv.validate_statistics(
        with_quantile_histograms(current), schema, environment=training_environment(schema), **other
    )
    findings = anomaly_findings(
        "train", anomalies, only_comparators=True, kind_prefix="SKEW_" if check == "skew" else ""
    )
    return findings, measurements(anomalies)


def measurements(anomalies: anomalies_pb2.Anomalies) -> list[Measurement]:
    """Every drift and skew value TFDV computed, above its threshold or not."""
    rows = []
    for info in anomalies.drift_skew_info:
        feature = ".".join(info.path.step)
        for check, values in (("drift", info.drift_measurements), ("skew", info.skew_measurements)):
            rows += [
                Measurement(
                    feature, check, _METRIC_NAMES.get(m.type, str(m.type)), m.value, m.threshold
                )
                for m in values
            ]
    return sorted(rows, key=lambda m: (m.check, m.feature))


def count_findings(
    split: str, num_examples: int, min_examples: int, span_rows: int = 0, share: float = 0.0
) -> list[Finding]:
    """An empty or header-only input is an anomaly: TFDV reports none for zero rows. With the
    span's size and the split's share, a small file is told what fits it: hash splitting
    gives a split about rows x share, give or take three standard deviations."""
    if num_examples >= min_examples:
        return []
    said = f"{num_examples} examples, at least {min_examples} required"
    if span_rows and 0 < share < 1:
        expected = span_rows * share
        spread = 3 * math.sqrt(span_rows * share * (1 - share))
        fits = int(expected - spread)
        chance = (
            "by chance: " if expected >= min_examples and num_examples >= expected - spread else ""
        )
        advice = (
            f"a validation.min_examples_per_split of at most {fits} fits a file this size"
            if fits >= 1
            else "the span is too small for this split: add rows"
        )
        said += (
            f" ({chance}the span's {span_rows} rows give {split} about {expected:.0f} ± "
            f"{spread:.0f} by hash; {advice})"
        )
    return [Finding(split, "<dataset>", TOO_FEW_EXAMPLES, said)]


def non_finite_findings(split: str, statistics) -> list[Finding]:
    """Numeric features holding inf or NaN: TFDV's schema checks let them through, and a model
    trained on them learns nothing (its loss is NaN)."""
    found = []
    for dataset in statistics.datasets:
        for feature in dataset.features:
            if not feature.HasField("num_stats"):
                continue
            stats = feature.num_stats
            if all(math.isfinite(v) for v in (stats.min, stats.max, stats.mean, stats.std_dev)):
                continue
            found.append(
                Finding(
                    split,
                    feature.path.step[-1] if feature.path.step else feature.name,
                    NON_FINITE,
                    f"inf or NaN values (min {stats.min}, max {stats.max}, mean {stats.mean})",
                )
            )
    return found


def label_findings(
    label: str,
    counts: dict[str, LabelCounts],
    previous_rate: float | None,
    previous_span: int | None,
    limits: LabelLimits,
) -> list[Finding]:
    """Label missing too often, its rate moved since the last span, or splits unbalanced; a
    multiclass label outside its classes. A regression target's distribution is judged by
    its column's drift comparator in the schema, as a feature's is."""
    findings = []
    for split, split_counts in sorted(counts.items()):
        if split_counts.unknown:
            findings.append(
                Finding(
                    split,
                    label,
                    LABEL_UNKNOWN_CLASS,
                    f"{split_counts.unknown} of {split_counts.rows} rows hold a value that is "
                    "not one of the label's classes",
                )
            )
        if split_counts.missing_rate > limits.max_missing_rate:
            findings.append(
                Finding(
                    split,
                    label,
                    LABEL_MISSING,
                    f"missing in {split_counts.missing} of {split_counts.rows} rows "
                    f"({split_counts.missing_rate:.1%}), at most "
                    f"{limits.max_missing_rate:.1%} allowed",
                )
            )
    train, evaluation = counts.get("train"), counts.get("eval")
    if train and train.kind == F.MULTICLASS:
        return findings + _class_share_gaps(label, train, evaluation, limits.max_split_gap)
    if train and train.kind != F.BINARY:
        return findings
    if train and previous_rate is not None:
        change = abs(train.positive_rate - previous_rate)
        if change > limits.max_rate_change:
            findings.append(
                Finding(
                    "train",
                    label,
                    LABEL_RATE_CHANGE,
                    f"positive rate {train.positive_rate:.3f} against "
                    f"{previous_rate:.3f} in span {previous_span}: change "
                    f"{change:.3f} above the threshold {limits.max_rate_change}",
                )
            )
    if train and evaluation and train.rows and evaluation.rows:
        gap = abs(evaluation.positive_rate - train.positive_rate)
        allowed = split_gap_tolerance(train, evaluation, limits.max_split_gap)
        if gap > allowed:
            findings.append(
                Finding(
                    "eval",
                    label,
                    LABEL_SPLIT_GAP,
                    f"positive rate {evaluation.positive_rate:.3f} in eval against "
                    f"{train.positive_rate:.3f} in train: gap {gap:.3f} above "
                    f"{allowed:.3f} (the larger of the threshold "
                    f"{limits.max_split_gap} and 3 standard errors)",
                )
            )
    return findings


def _class_share_gaps(
    label: str, train: LabelCounts, evaluation: LabelCounts | None, limit: float
) -> list[Finding]:
    """Each class's share in eval against train, as the binary positive rate is compared."""
    if not evaluation or not train.rows or not evaluation.rows:
        return []
    found = []
    for index in range(len(train.classes)):
        one = LabelCounts(train.rows, 0, train.classes[index])
        other = LabelCounts(evaluation.rows, 0, evaluation.classes[index])
        gap = abs(other.positive_rate - one.positive_rate)
        allowed = split_gap_tolerance(one, other, limit, compared=len(train.classes))
        if gap > allowed:
            found.append(
                Finding(
                    "eval",
                    label,
                    LABEL_SPLIT_GAP,
                    f"class {train.class_names[index]!r} share {other.positive_rate:.3f} in "
                    f"eval against {one.positive_rate:.3f} in train: gap {gap:.3f} above "
                    f"{allowed:.3f}",
                )
            )
    return found


def split_gap_tolerance(
    train: LabelCounts, evaluation: LabelCounts, limit: float, compared: int = 1
) -> float:
    """The gap between the splits' positive rates that sampling alone explains, or `limit`.

    A hash split is random: on span 4's 535/298 rows a fixed 0.05 would stop about one clean
    span in eight; three standard errors of the difference stop about one in 370. With
    `compared` rates (one per class) each is allowed more, so that a clean span is still
    stopped about one time in 370 (Bonferroni).
    """
    from statistics import NormalDist

    rate = (train.positives + evaluation.positives) / (train.rows + evaluation.rows)
    error = math.sqrt(rate * (1 - rate) * (1 / train.rows + 1 / evaluation.rows))
    z = NormalDist().inv_cdf(1 - (1 - NormalDist().cdf(3)) / compared)
    return max(limit, z * error)


@dataclasses.dataclass
class GateReport:
    """The gate's verdict on one span: every figure it looked at and every finding."""

    span: int | None
    previous_span: int | None  # the last accepted span drift was measured against
    label: str
    label_counts: dict[str, LabelCounts]
    previous_label_rate: float | None
    measurements: list[Measurement]
    findings: list[Finding]  # all, allowed ones included
    allow: list[str]
    unmeasured: list[str] = dataclasses.field(default_factory=list)  # no drift comparator

    @property
    def allowed(self) -> list[tuple[Finding, str]]:
        return [(f, entry) for f in self.findings if (entry := f.allowed_by(self.allow))]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if not f.allowed_by(self.allow)]

    @property
    def unused_allow(self) -> list[str]:
        used = {entry for _, entry in self.allowed}
        return [entry for entry in self.allow if entry not in used]

    def to_json(self) -> str:
        """The report with its verdict spelled out, which `metadata.verdicts` reads to tell a
        stop from a gate that crashed after writing an accepting report."""
        verdict = names.GATE_STOPPED if self.blocking else names.GATE_ACCEPTED
        return json.dumps(
            {**dataclasses.asdict(self), names.GATE_VERDICT: verdict}, indent=1, sort_keys=True
        )

    @classmethod
    def read(cls, path: str | None) -> GateReport | None:
        """The report a run's gate wrote at `path`; None when it wrote none."""
        found = pathlib.Path(path) if path else None
        return cls.from_json(found.read_text()) if found and found.is_file() else None

    @classmethod
    def from_json(cls, text: str) -> GateReport:
        raw: dict[str, Any] = json.loads(text)
        raw.pop(names.GATE_VERDICT, None)
        raw["label_counts"] = {
            k: LabelCounts(
                **{
                    **v,
                    "classes": tuple(v.get("classes", ())),
                    "class_names": tuple(v.get("class_names", ())),
                }
            )
            for k, v in raw["label_counts"].items()
        }
        raw["measurements"] = [Measurement(**m) for m in raw["measurements"]]
        raw["findings"] = [Finding(**f) for f in raw["findings"]]
        return cls(**raw)
