"""`tfxp replay --csv FILE`: rows of a CSV file sent to a running `tfxp serve` as clients
would, in batches of `--batch` rows per `:predict` request, each request under its own id,
and for a `--feedback` share of rows the true label (derived from the file's label columns
by the config's rule) posted back to `/v1/feedback`: traffic and labels for the monitor.

Bounded by the file (and `--limit`); it waits up to 30 s for a server still starting, and
a failed request is counted, not retried.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import random
import time
import urllib.error
import urllib.request
import uuid

from models.features import Label
from pipeline.csv_table import NA_VALUES, CsvProblem, read_csv
from pipeline.spans import DataError
from serving.batch import typed_cell
from serving.examples import RequestSchema


class ReplayError(ValueError):
    """The server is not there, or refused every request; one line."""


@dataclasses.dataclass(frozen=True)
class Replayed:
    requests: int
    rows: int
    failed: int  # requests answered with an error
    feedback: int  # labels posted


def _post(url: str, body: dict, request_id: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if request_id:
        headers["X-Request-Id"] = request_id
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise ReplayError(f"{url}: no server answers ({reason}); start `tfxp serve`") from None


def _wait_for(status_url: str, seconds: float) -> None:
    """A server just started (`tfxp serve &`) loads its model first: wait for its status."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(status_url, timeout=5) as response:
                response.read()
                return
        except urllib.error.HTTPError as err:
            raise ReplayError(f"{status_url}: {err.code} {err.reason}") from None
        except (urllib.error.URLError, ConnectionError) as err:
            if time.monotonic() > deadline:
                reason = getattr(err, "reason", err)
                raise ReplayError(
                    f"{status_url}: no server answers ({reason}); start `tfxp serve`"
                ) from None
            time.sleep(0.5)


def replay(
    url: str,
    name: str,
    path: pathlib.Path,
    request: RequestSchema,
    label: Label,
    feedback: float = 0.0,
    batch: int = 1,
    limit: int | None = None,
    seed: int = 0,
    wait_seconds: float = 30.0,
    na_values: tuple[str, ...] = NA_VALUES,
) -> Replayed:
    if not 0 <= feedback <= 1:
        raise ReplayError(f"--feedback is a share of rows within 0..1, got {feedback}")
    if batch < 1:
        raise ReplayError(f"--batch must be >= 1, got {batch}")
    try:
        records = read_csv(path, na_values).records()[:limit]
    except CsvProblem as problem:
        raise DataError(f"{problem.path}: {problem.kind}: {problem}") from None
    base = url.rstrip("/")
    _wait_for(f"{base}/v1/models/{name}", wait_seconds)
    chooser = random.Random(seed)
    requests = failed = sent = 0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        instances = [
            {
                column: typed_cell(cell, request.types[column])
                for column, cell in record.items()
                if column in request.types
            }
            for record in chunk
        ]
        request_id = uuid.uuid4().hex
        status = _post(f"{base}/v1/models/{name}:predict", {"instances": instances}, request_id)
        requests += 1
        if status != 200:
            failed += 1
            continue
        for row, record in enumerate(chunk):
            truth = label.derive(record)  # None: a class outside the classes, or no number
            if chooser.random() < feedback and truth is not None:
                body = {"request_id": request_id, "row": row, "label": truth}
                sent += _post(f"{base}/v1/feedback", body) == 200
    if requests and failed == requests:
        raise ReplayError(f"{base}: every one of {requests} requests failed")
    return Replayed(requests, len(records), failed, sent)
