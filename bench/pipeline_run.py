"""Benchmark: the bundled taxi pipeline from scratch, then re-run unchanged, in one process.

Each run is what `make run` does, through the same function (`local_runner.run` with
backfill): the earlier spans of the window through the gate, then the whole pipeline on the
newest span.

Prints wall seconds per run and per component of the final run (read back from ML Metadata),
the ratio of the cached re-run to the fresh run, and peak RSS. Not a test: these machines are
shared and noisy, so compare figures from one invocation, never against a fixed number.

    .venv/bin/python bench/pipeline_run.py [--config pipeline/configs/taxi.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import tempfile
import time
from pathlib import Path

from cli.main import quiet_logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="pipeline/configs/taxi.yaml")
    args = parser.parse_args()
    quiet_logs()
    from pipeline import local_runner
    from pipeline.config import load_config

    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = dataclasses.replace(
            config,
            pipeline_root=work / "root",
            metadata_path=work / "metadata.sqlite",
            serving_dir=work / "serving",
        )
        walls = {}
        for label in ("fresh", "unchanged"):
            start = time.perf_counter()
            outcome = local_runner.run(config, backfill=True)
            walls[label] = time.perf_counter() - start
            run = outcome.run
            print(
                f"{label}: {walls[label]:.1f} s wall (imports excluded), "
                f"{outcome.result.name.lower()}"
            )
            for node, seconds in run.node_seconds.items():
                print(f"  {node:<32} {run.nodes[node]:<9} {seconds:6.1f} s")
    print(f"unchanged / fresh = {walls['unchanged'] / walls['fresh']:.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
