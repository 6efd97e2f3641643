"""Benchmark: `tfxp serve` on 127.0.0.1 against the limit, the model's signature called in this
process, on the same rows, in one run.

Starts the server on a free loopback port over the config's serving folder (a pushed model must
be there: `make run` first), then sends, for a bounded time each: single rows from one client,
single rows from N clients, batches of 100 from one client and from N clients. Prints p50/p99
latency and rows/s per case, the in-process signature's rows/s on single rows and on batches,
and the ratios. Traffic goes to 127.0.0.1 only. Not a test: compare figures of one run.

    .venv/bin/python bench/serving_load.py [--config pipeline/configs/taxi.yaml] [--clients 4]
                                      [--seconds 10]
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from cli.main import quiet_logs

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _rows(config, count: int) -> list[dict]:
    """`count` rows of the newest span, typed as a client sends them (no label)."""
    from pipeline.schema import read_schema
    from pipeline.spans import span_files
    from serving.batch import typed_cell

    types = {f.name: f.type for f in read_schema(config.schema_file).feature}
    _, files = span_files(config.data_root)
    rows = []
    with open(files[0]) as handle:
        for record in csv.DictReader(handle):
            row = {
                name: typed_cell(value, types[name])
                for name, value in record.items()
                if name != config.model.label.column and name in types
            }
            rows.append(row)
            if len(rows) == count:
                break
    return rows


def _post(url: str, body: bytes) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        assert response.status == 200
    return time.perf_counter() - started


def _load(url: str, bodies: list[bytes], rows_each: int, clients: int, seconds: float) -> dict:
    """Send for `seconds` from `clients` threads; latency per request, rows/s overall."""
    latencies: list[float] = []
    lock, stop = threading.Lock(), time.monotonic() + seconds

    def client(offset: int) -> None:
        n = offset
        while time.monotonic() < stop:
            took = _post(url, bodies[n % len(bodies)])
            with lock:
                latencies.append(took)
            n += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "rows_per_s": len(latencies) * rows_each / wall,
        "requests": len(latencies),
    }


def _in_process(config, rows: list[dict], batch: int, seconds: float) -> float:
    """Rows/s of the live version's signature called here, on serialized examples."""
    from pipeline.schema import read_schema
    from serving.deployment import read_state
    from serving.examples import RequestSchema, to_examples
    from serving.repository import ModelRepository

    request = RequestSchema.from_schema(
        read_schema(config.schema_file), [f.name for f in config.model.features]
    )
    repository = ModelRepository(str(config.serving_dir))
    version = read_state(config.serving_dir).live_version(repository.versions())
    batches = [to_examples(rows[i : i + batch], request) for i in range(0, len(rows), batch)]
    repository.scores(version, batches[0])  # load and trace once
    done, n, stop = 0, 0, time.monotonic() + seconds
    started = time.perf_counter()
    while time.monotonic() < stop:
        done += len(repository.scores(version, batches[n % len(batches)]))
        n += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="pipeline/configs/taxi.yaml")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    quiet_logs()
    from pipeline.config import load_config

    config = load_config(args.config)
    rows = _rows(config, 1000)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tfxp = pathlib.Path(sys.executable).parent / "tfxp"
    server = subprocess.Popen(
        [str(tfxp), "serve", "--config", args.config, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1/models/{config.name}:predict"
    single = [json.dumps({"instances": [row]}).encode() for row in rows]
    batched = [
        json.dumps({"instances": rows[i : i + 100]}).encode() for i in range(0, len(rows), 100)
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _post(url, single[0])
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start: is a model pushed?") from None
                time.sleep(0.5)
        for _ in range(50):  # warm up: the model loaded and traced
            _post(url, single[0])
            _post(url, batched[0])
        cases = {
            "single row, 1 client": _load(url, single, 1, 1, args.seconds),
            f"single row, {args.clients} clients": _load(
                url, single, 1, args.clients, args.seconds
            ),
            "batch of 100, 1 client": _load(url, batched, 100, 1, args.seconds),
            f"batch of 100, {args.clients} clients": _load(
                url, batched, 100, args.clients, args.seconds
            ),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    limit_single = _in_process(config, rows, 1, args.seconds)
    limit_batch = _in_process(config, rows, 100, args.seconds)
    print(f"{'case':<28} {'p50 ms':>8} {'p99 ms':>8} {'rows/s':>10} {'of in-process':>14}")
    for name, case in cases.items():
        limit = limit_single if name.startswith("single") else limit_batch
        print(
            f"{name:<28} {case['p50_ms']:8.2f} {case['p99_ms']:8.2f} "
            f"{case['rows_per_s']:10.0f} {case['rows_per_s'] / limit:14.2f}"
        )
    print(f"in-process signature: {limit_single:.0f} rows/s single, {limit_batch:.0f} batched")


if __name__ == "__main__":
    main()
