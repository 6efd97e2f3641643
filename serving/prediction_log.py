"""The prediction log: every answered request's features, version, role, score, latency and
request id, every failed request's status, and the feedback labels that arrive later, as JSON
lines under `outputs/<name>/predictions/`.

Writing never holds a response: rows go through a bounded queue to one writer thread, which
starts a new file when the current one reaches `max_bytes`. When the queue is full a row is
dropped and counted (`dropped`), never waited for.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import queue
import threading
from collections.abc import Iterator

PREDICTIONS = "predictions"
FEEDBACK = "feedback"
ERRORS = "errors"  # requests answered with an error status


def predictions_dir(serving_dir) -> pathlib.Path:
    """`outputs/<name>/predictions/`, beside the serving folder."""
    return pathlib.Path(serving_dir).parent / "predictions"


class PredictionLog:
    def __init__(
        self, folder: pathlib.Path, max_bytes: int = 64 * 1024 * 1024, capacity: int = 10_000
    ):
        self.folder = pathlib.Path(folder)
        self.max_bytes = max_bytes
        self.dropped = 0
        self._rows: queue.Queue = queue.Queue(maxsize=capacity)
        self._files: dict[str, tuple[pathlib.Path, object]] = {}
        self._written: dict[str, int] = {}  # bytes in each kind's current file
        self._writer = threading.Thread(
            target=self._write_forever, name="prediction-log", daemon=True
        )
        self._writer.start()

    def append(self, kind: str, row: dict) -> None:
        """Queue one row of `kind` (predictions or feedback); never blocks."""
        try:
            self._rows.put_nowait((kind, row))
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued row is on disk (for tests and shutdown), `timeout` at most."""
        done = threading.Event()
        try:
            self._rows.put((None, done), timeout=timeout)
        except queue.Full:
            return
        done.wait(timeout)

    def _write_forever(self) -> None:
        while True:
            kind, row = self._rows.get()
            if kind is None:
                for _, handle in self._files.values():
                    handle.flush()
                row.set()
                continue
            try:
                self._write(kind, row)
            except (OSError, ValueError):  # a full disk (or a NaN) loses a row, never answers
                self.dropped += 1

    def _write(self, kind: str, row: dict) -> None:
        path, handle = self._files.get(kind, (None, None))
        if (
            handle is None
            or self._written.get(kind, 0) >= self.max_bytes
            or not path.exists()  # moved or deleted (log shipping, a cleanup): start anew
        ):
            if handle is not None:
                handle.close()
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            path = self.folder / f"{kind}-{stamp}.jsonl"
            handle = open(path, "a", encoding="utf-8")
            self._files[kind] = (path, handle)
            self._written[kind] = 0
        line = json.dumps(row, sort_keys=True, allow_nan=False) + "\n"
        handle.write(line)
        self._written[kind] += len(line.encode())
        if self._rows.empty():  # every kind: a reader must not wait for the next row of one
            for _, open_handle in self._files.values():
                open_handle.flush()


class LogError(ValueError):
    """A line of the prediction log that is not a row the server writes; one line naming it."""


def located_rows(folder: pathlib.Path, kind: str) -> Iterator[tuple[str, dict]]:
    """Every row of `kind` in the log, oldest file first, each with its `file:line`. A last
    line without its newline is one the server is still writing: it is left for next time."""
    for path in sorted(pathlib.Path(folder).glob(f"{kind}-*.jsonl")):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith("\n") or not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise LogError(f"{path}:{number}: not a JSON row ({err.msg})") from None
                if not isinstance(row, dict):
                    raise LogError(f"{path}:{number}: not a JSON object")
                yield f"{path}:{number}", row


def read_rows(folder: pathlib.Path, kind: str) -> list[dict]:
    """Every row of `kind` in the log, oldest file first."""
    return [row for _, row in located_rows(folder, kind)]
