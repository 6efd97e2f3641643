"""The prediction log writes every row in order, rotates by size, and never makes a caller
wait: a full queue drops the row and counts it."""

from __future__ import annotations

import threading

from serving.prediction_log import FEEDBACK, PREDICTIONS, PredictionLog, read_rows


def test_rows_are_written_in_order_and_files_rotate_by_size(tmp_path):
    log = PredictionLog(tmp_path, max_bytes=2000)
    for n in range(100):
        log.append(PREDICTIONS, {"request_id": f"r{n}", "score": n / 100})
    log.append(FEEDBACK, {"request_id": "r3", "label": 1})
    log.flush()
    assert [r["request_id"] for r in read_rows(tmp_path, PREDICTIONS)] == [
        f"r{n}" for n in range(100)
    ]
    assert len(list(tmp_path.glob("predictions-*.jsonl"))) > 1
    assert read_rows(tmp_path, FEEDBACK) == [{"label": 1, "request_id": "r3"}]
    assert log.dropped == 0


def test_a_full_queue_drops_and_counts_instead_of_waiting(tmp_path, monkeypatch):
    log = PredictionLog(tmp_path, capacity=5)
    held = threading.Event()
    monkeypatch.setattr(log, "_write", lambda kind, row: held.wait(10))  # a stuck disk
    for n in range(50):
        log.append(PREDICTIONS, {"n": n})  # returns at once, whatever the writer does
    assert 40 <= log.dropped <= 45
    held.set()


def test_once_the_queue_is_empty_every_kind_is_on_disk_without_a_flush_call(tmp_path):
    """Answers then their feedback: the answers' file must not keep its tail in a buffer
    until the next answer (a monitor would miss the last requests)."""
    import time

    log = PredictionLog(tmp_path)
    for n in range(5):
        log.append(PREDICTIONS, {"request_id": f"r{n}", "pad": "x" * 3000})
    for n in range(5):
        log.append(FEEDBACK, {"request_id": f"r{n}", "label": 1})
    deadline = time.monotonic() + 10
    while len(read_rows(tmp_path, FEEDBACK)) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(read_rows(tmp_path, FEEDBACK)) == 5
    assert len(read_rows(tmp_path, PREDICTIONS)) == 5
