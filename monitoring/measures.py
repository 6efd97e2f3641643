"""What one slice of traffic (a window's rows of one version and role) measures: TFDV
statistics of its inputs, missing values and unseen categories, its score distribution and
null answers, and its quality against feedback labels. Comparisons go through the data gate's
own comparator (`components.validation.comparison`), on the curated schema's thresholds for
inputs and on `monitoring.max_score_drift` for scores: one implementation of drift and skew.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from components.validation import SERVING, Finding, Measurement, anomaly_findings, comparison
from monitoring.traffic import Scored
from serving.examples import RequestSchema

SCORE = "score"  # the score's name in its own statistics


@dataclasses.dataclass(frozen=True)
class Inputs:
    """A slice's logged inputs: their TFDV statistics and each feature's missing share."""

    statistics: statistics_pb2.DatasetFeatureStatisticsList
    missing: dict[str, float]  # feature -> share of rows without a value (only those > 0)


def inputs_of(rows: Sequence[Scored], schema: schema_pb2.Schema) -> Inputs:
    """The logged inputs typed by the schema as the server typed them (a feature left out is
    absent, one sent empty an empty value list, as a blank CSV cell), in one columnar batch:
    its statistics and missing shares are read from the same columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns, names, missing = [], [], {}
    for feature in serving_features(schema):
        kind, convert = _ARROW[feature.type]
        common = _COMMON[feature.type]
        name = feature.name
        values = []
        for row in rows:
            raw = row.features.get(name, _ABSENT)
            values.append([raw] if type(raw) is common else _values(raw, convert))
        column = pa.array(values, type=pa.list_(kind()))
        empty = pc.sum(pc.equal(pc.list_value_length(column), 0)).as_py() or 0
        if rows and column.null_count + empty:
            missing[name] = (column.null_count + empty) / len(rows)
        columns.append(column)
        names.append(name)
    batch = pa.RecordBatch.from_arrays(columns, names)
    return Inputs(_statistics(batch, schema), missing)


def score_statistics(rows: Sequence[Scored]) -> statistics_pb2.DatasetFeatureStatisticsList:
    import pyarrow as pa

    values = [[row.score] if row.score is not None else None for row in rows]
    batch = pa.RecordBatch.from_arrays([pa.array(values, type=pa.list_(pa.float32()))], [SCORE])
    return _statistics(batch, None)


def _statistics(batch, schema) -> statistics_pb2.DatasetFeatureStatisticsList:
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics import stats_impl

    options = tfdv.StatsOptions(schema=schema) if schema is not None else tfdv.StatsOptions()
    return stats_impl.generate_statistics_in_memory(batch, options)


def _number(value: Any) -> float | None:
    if type(value) is float:  # the common case, first
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    if type(value) is int:  # the common case, first
        return value
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _text(value: Any) -> bytes | None:
    return None if value is None else str(value).encode()


_ARROW = {
    schema_pb2.INT: (lambda: __import__("pyarrow").int64(), _integer),
    schema_pb2.FLOAT: (lambda: __import__("pyarrow").float32(), _number),
    schema_pb2.BYTES: (lambda: __import__("pyarrow").binary(), _text),
}
_ABSENT = object()


_COMMON = {schema_pb2.INT: int, schema_pb2.FLOAT: float, schema_pb2.BYTES: str}  # as sent


def _values(raw: Any, convert) -> list | None:
    """A feature's values as a list: None when left out, [] when sent empty."""
    if raw is _ABSENT:
        return None
    if not isinstance(raw, list):
        if raw is None or raw == "":
            return []
        value = convert(raw)
        return [] if value is None else [value]
    converted = [convert(v) for v in raw if v is not None and v != ""]
    return [v for v in converted if v is not None]


def serving_features(schema: schema_pb2.Schema) -> list:
    """The schema's features a request carries (the SERVING environment's), as the server
    types requests (`RequestSchema`)."""
    carried = RequestSchema.from_schema(schema, []).types
    return [feature for feature in schema.feature if feature.name in carried]


def _present(value: Any) -> list:
    """A logged value as the values it holds: a list flattened, null and "" dropped."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if v is not None and v != ""]


def unseen_categories(
    rows: Sequence[Scored], schema: schema_pb2.Schema
) -> dict[str, dict[str, int]]:
    """Per string feature with a domain, each value outside it and how often it came."""
    domains = {d.name: set(d.value) for d in schema.string_domain}
    found: dict[str, dict[str, int]] = {}
    for feature in schema.feature:
        domain = domains.get(feature.domain) if feature.HasField("domain") else None
        if domain is None and feature.HasField("string_domain"):
            domain = set(feature.string_domain.value)
        if domain is None:
            continue
        for row in rows:
            for value in _present(row.features.get(feature.name)):
                if str(value) not in domain:
                    counts = found.setdefault(feature.name, {})
                    counts[str(value)] = counts.get(str(value), 0) + 1
    return found


def schema_findings(where: str, stats, schema: schema_pb2.Schema) -> list[Finding]:
    """The schema's own checks on serving inputs (presence, domains, types), as the gate runs
    them on a span."""
    import tensorflow_data_validation as tfdv

    environment = SERVING if SERVING in schema.default_environment else None
    return anomaly_findings(where, tfdv.validate_statistics(stats, schema, environment=environment))


def input_skew(training, current, schema) -> tuple[list[Finding], list[Measurement]]:
    """The served inputs against the served model's training data, by the skew comparators."""
    return comparison(training, schema, current, "skew")


def input_drift(current, previous, schema) -> tuple[list[Finding], list[Measurement]]:
    return comparison(current, schema, previous, "drift")


def score_shift(current, baseline, threshold: float) -> Measurement | None:
    """The Jensen-Shannon divergence between two score distributions (None when either has
    no score), measured by the gate's comparator on a one-feature schema."""
    schema = schema_pb2.Schema()
    feature = schema.feature.add(name=SCORE, type=schema_pb2.FLOAT)
    feature.drift_comparator.jensen_shannon_divergence.threshold = threshold
    measured = comparison(current, schema, baseline, "drift")[1]
    return measured[0] if measured else None


@dataclasses.dataclass(frozen=True)
class Quality:
    labels: int
    positives: int
    auc: float | None  # None: both classes are needed
    precision: float | None  # at a score of 0.5; None: nothing predicted positive
    recall: float | None  # None: no positive label

    def value(self, metric: str) -> float | None:
        return getattr(self, metric)


def quality(rows: Sequence[Scored]) -> Quality:
    """Quality on the rows whose feedback arrived and that have a score."""
    pairs = [
        (row.score, row.label > 0.5)
        for row in rows
        if row.label is not None and row.score is not None
    ]
    positives = sum(1 for _, label in pairs if label)
    auc = None
    if 0 < positives < len(pairs):
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score([label for _, label in pairs], [s for s, _ in pairs]))
    predicted = [label for score, label in pairs if score >= 0.5]
    hits = sum(predicted)
    return Quality(
        labels=len(pairs),
        positives=positives,
        auc=auc,
        precision=hits / len(predicted) if predicted else None,
        recall=hits / positives if positives else None,
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (nearest rank), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]
