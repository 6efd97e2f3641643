"""The prediction log read back as traffic: each scored row with its request, version, role,
score, latency and feedback label, and each failed request, cut into time windows.

Time is the server's clock when it answered (seconds since the epoch). Windows start at the
range's start and step by the window's length, so `--since T` gives the same windows on every
call; the window before the first is the baseline drift is measured against.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import pathlib
from collections.abc import Iterable
from typing import Any

from pipeline.config import ConfigError, duration_seconds
from serving.deployment import SHADOW
from serving.prediction_log import ERRORS, FEEDBACK, PREDICTIONS, LogError, located_rows


@dataclasses.dataclass(frozen=True)
class Scored:
    """One row a version scored: a live or candidate answer, or a shadow's unseen score."""

    time: float
    request_id: str
    row: int
    version: int
    role: str
    features: dict[str, Any]
    score: float | None  # None: the model gave no finite score
    latency_ms: float
    label: float | None  # the feedback for this request's row, if any arrived
    labelled_at: float | None = None  # when that feedback arrived


@dataclasses.dataclass(frozen=True)
class Failed:
    time: float
    request_id: str
    status: int
    latency_ms: float


@dataclasses.dataclass(frozen=True)
class Traffic:
    scored: list[Scored]
    failed: list[Failed]
    unmatched_labels: int = 0  # feedback naming no logged answer (a wrong id, or rotated out)

    def between(self, start: float, end: float) -> Traffic:
        return Traffic(
            [s for s in self.scored if start <= s.time < end],
            [f for f in self.failed if start <= f.time < end],
            self.unmatched_labels,
        )

    def answered(self) -> list[Scored]:
        """Rows a client got an answer for (live or candidate): a shadow repeats a request."""
        return [s for s in self.scored if s.role != SHADOW]


def read_traffic(folder: pathlib.Path) -> Traffic:
    """Every logged prediction joined with its feedback (the last one for a row wins), and
    every failed request; a row that is not one the server writes is a `LogError` naming
    its file and line."""
    feedback = {}
    with _rows_of(folder, FEEDBACK) as rows:
        for row in rows:
            feedback[(row["request_id"], int(row.get("row", 0)))] = (
                float(row["label"]),
                float(row.get("time", 0.0)),
            )
    scored = []
    with _rows_of(folder, PREDICTIONS) as rows:
        for row in rows:
            score = row.get("score")
            if isinstance(score, list):  # a multi-output head: the first output is the score
                score = score[0] if score else None
            key = (row["request_id"], int(row.get("row", 0)))
            label, labelled_at = feedback.get(key, (None, None))
            scored.append(
                Scored(
                    time=float(row["time"]),
                    request_id=row["request_id"],
                    row=key[1],
                    version=int(row["version"]),
                    role=row["role"],
                    features=_features(row.get("features") or {}),
                    score=float(score) if isinstance(score, (int, float)) else None,
                    latency_ms=float(row.get("latency_ms", 0.0)),
                    label=label,
                    labelled_at=labelled_at,
                )
            )
    failed = []
    with _rows_of(folder, ERRORS) as rows:
        for row in rows:
            failed.append(
                Failed(
                    float(row["time"]),
                    row["request_id"],
                    int(row["status"]),
                    float(row.get("latency_ms", 0.0)),
                )
            )
    answered_keys = {(s.request_id, s.row) for s in scored}
    unmatched = sum(1 for key in feedback if key not in answered_keys)
    return Traffic(
        sorted(scored, key=lambda s: s.time), sorted(failed, key=lambda f: f.time), unmatched
    )


@contextlib.contextmanager
def _rows_of(folder: pathlib.Path, kind: str):
    """The log's rows of `kind`; a row the caller cannot read becomes a `LogError` naming
    the file and line it came from."""
    where = [""]

    def rows():
        for where[0], row in located_rows(folder, kind):
            yield row

    try:
        yield rows()
    except KeyError as err:
        raise LogError(f"{where[0]}: a {kind} row without {err}") from None
    except (TypeError, ValueError) as err:
        raise LogError(f"{where[0]}: a {kind} row with a value of the wrong kind ({err})") from None


def _features(row: dict[str, Any]) -> dict[str, Any]:
    """A logged row's raw values; a `{"b64": ...}` row (a serialized tf.Example, as TF
    Serving's clients send it) is read back into values."""
    if set(row) != {"b64"}:
        return row
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example.FromString(base64.b64decode(row["b64"]))
    values = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        found = list(getattr(feature, kind).value) if kind else []
        found = [v.decode(errors="replace") if isinstance(v, bytes) else v for v in found]
        values[name] = found[0] if len(found) == 1 else (found or None)
    return values


@dataclasses.dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def name(self) -> str:
        return moment(self.start)


def windows(start: float, end: float, length: int) -> list[Window]:
    """[start, end) cut into windows of `length` seconds, the last one possibly shorter."""
    found, at = [], start
    while at < end:
        found.append(Window(at, min(at + length, end)))
        at += length
    return found


def moment(seconds: float) -> str:
    return (
        datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def parse_since(text: str, now: float) -> float:
    """`--since`: a duration back from now (`2h`) or a moment (`2026-11-30T01:00:00Z`)."""
    try:
        return now - duration_seconds(text, "--since")
    except ConfigError:
        pass
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--since must be a duration (90s, 30m, 2h, 7d) or a moment like "
            f"2026-11-30T01:00:00Z, got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def groups(rows: Iterable[Scored]) -> dict[tuple[int, str], list[Scored]]:
    """Rows by (version, role), in version then role order."""
    found: dict[tuple[int, str], list[Scored]] = {}
    for row in rows:
        found.setdefault((row.version, row.role), []).append(row)
    return dict(sorted(found.items()))
