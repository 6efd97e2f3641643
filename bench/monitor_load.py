"""Benchmark: `tfxp monitor` on logs of 10,000 and 100,000 predictions, side by side in one run,
to see how its time grows with the log and what 100,000 logged predictions cost.

The logs are written to a temporary folder in the server's own format: rows of the config's
newest span as clients send them, spread over 4 hours, each answered by the live version with a
made-up score, a tenth of them with feedback. The monitor reads them with the config's store
copied (its records go to the copy) and judges them in 1-hour windows: input statistics, skew
against the training data, drift, scores, system and quality, as for the real log. A pushed
model must be in the serving folder (`make run` first). Not a test: compare figures of one run.

    .venv/bin/python bench/monitor_load.py [--config pipeline/configs/taxi.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import random
import shutil
import tempfile
import time

from cli.main import quiet_logs

SPREAD = 4 * 3600  # seconds the logged traffic covers
SIZES = (10_000, 100_000)


def _rows(config) -> list[dict]:
    from pipeline.csv_table import read_csv
    from pipeline.schema import read_schema
    from pipeline.spans import span_files
    from serving.batch import typed_cell

    types = {f.name: f.type for f in read_schema(config.schema_file).feature}
    records = read_csv(span_files(config.data_root)[1][0]).records()
    return [
        {k: typed_cell(v, types[k]) for k, v in r.items() if k in types and k != "tips"}
        for r in records
    ]


def _write_log(folder: pathlib.Path, rows: list[dict], count: int, version: int, start: float):
    draw = random.Random(count)
    folder.mkdir(parents=True)
    with (
        open(folder / "predictions-0.jsonl", "w") as out,
        open(folder / "feedback-0.jsonl", "w") as feedback,
    ):
        for n in range(count):
            request_id = f"r{n}"
            score = draw.betavariate(2, 5)
            row = {
                "time": start + SPREAD * n / count,
                "request_id": request_id,
                "row": 0,
                "model": "taxi",
                "version": version,
                "role": "live",
                "features": rows[n % len(rows)],
                "score": score,
                "latency_ms": draw.uniform(1, 10),
            }
            out.write(json.dumps(row, sort_keys=True) + "\n")
            if n % 10 == 0:
                label = int(draw.random() < score)
                feedback.write(json.dumps({"request_id": request_id, "row": 0, "label": label}))
                feedback.write("\n")


def main() -> None:
    quiet_logs()
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="pipeline/configs/taxi.yaml")
    args = parser.parse_args()

    from monitoring.monitor import monitor
    from monitoring.traffic import read_traffic
    from pipeline.config import load_config
    from serving.repository import ModelRepository

    config = load_config(args.config)
    versions = ModelRepository(str(config.serving_dir)).versions()
    if not versions:
        raise SystemExit(f"no version in {config.serving_dir}: run `make run` first")
    rows = _rows(config)
    start = time.time() - SPREAD - 60
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = pathlib.Path(tmp) / "metadata.sqlite"
        shutil.copy(config.metadata_path, store)
        copied = dataclasses.replace(config, metadata_path=store)
        for count in SIZES:
            folder = pathlib.Path(tmp) / f"log-{count}"
            _write_log(folder, rows, count, versions[-1], start)
            began = time.perf_counter()
            read_traffic(folder)
            read = time.perf_counter() - began
            began = time.perf_counter()
            report = monitor(copied, since=start, window_seconds=3600, log_dir=folder)
            total = time.perf_counter() - began
            results[count] = (read, total, len(report.windows), len(report.alerts))
    print(f"{'predictions':>12} {'read s':>8} {'monitor s':>10} {'s per 100k':>11} windows")
    for count, (read, total, windows, alerts) in results.items():
        print(
            f"{count:>12,} {read:>8.2f} {total:>10.2f} {total * 100_000 / count:>11.2f} "
            f"{windows:>7} ({alerts} findings)"
        )
    small, large = results[SIZES[0]][1], results[SIZES[1]][1]
    print(f"time ratio {SIZES[1] // SIZES[0]}x the log: {large / small:.2f}x")


if __name__ == "__main__":
    main()
