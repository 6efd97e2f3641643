"""Benchmark: our cold taxi run against TFX 1.16's taxi template, then our pipeline on
synthetic spans of growing size. Every figure comes from this one invocation.

1. Alternating, `--repeats` times, each a whole process on the same 15,002 bundled rows:
   - the template's chain as its `local_runner.py` builds it (ExampleGen, StatisticsGen,
     SchemaGen, ExampleValidator, Transform, Trainer with 1,000 steps, Evaluator, Pusher), from
     the copy that ships inside the installed `tfx`, the four spans in one CSV;
   - our cold `make run` work: `tfxp run --backfill` with fresh outputs (spans 1-3 through the
     gate, then the whole pipeline on span 4's window).
   It prints the median wall seconds and peak RSS of each, their ratio, and the AUC of both
   trained models on the same rows: the template's eval split, scored through each model's
   serving signature. The template's model sees three features (its `features.py` leaves the
   rest commented out), so its AUC is near chance; its own Evaluator checks only accuracy,
   which always answering "no" passes at 0.77.
2. For each `--sizes` row count: `tfxp data synth` writes one span (not committed), then
   `tfxp run` on it (window 1) as a whole process: wall seconds, peak RSS, each component's
   seconds (from ML Metadata) and rows per second; and pyarrow's own read of the same CSV,
   against which CsvExampleGen's rate is given.

Not a test: these machines are shared and noisy, so compare figures from one run only.

    .venv/bin/python bench/speed_and_scale.py [--repeats 3] [--sizes 100000,1000000,5000000]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TFXP = str(pathlib.Path(sys.executable).parent / "tfxp")
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "NO_GCE_CHECK": "True"}
os.environ.update(QUIET)  # this process scores both models: TensorFlow's start-up lines out
warnings.filterwarnings("ignore", category=FutureWarning)  # google.api_core on Python 3.10

TEMPLATE_RUNNER = """
import sys
from tfx import v1 as tfx
from pipeline import configs, pipeline
out, data = sys.argv[1], sys.argv[2]
tfx.orchestration.LocalDagRunner().run(pipeline.create_pipeline(
    pipeline_name="template", pipeline_root=out + "/root", data_path=data,
    preprocessing_fn=configs.PREPROCESSING_FN, run_fn=configs.RUN_FN,
    train_args=tfx.proto.TrainArgs(num_steps=configs.TRAIN_NUM_STEPS),
    eval_args=tfx.proto.EvalArgs(num_steps=configs.EVAL_NUM_STEPS),
    eval_accuracy_threshold=configs.EVAL_ACCURACY_THRESHOLD,
    serving_model_dir=out + "/serving",
    metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
        out + "/metadata.sqlite")))
"""


# Starts the measured command and writes its peak RSS (KB) to the file named first. Linux counts
# in a process's peak the memory of the process it was started from (the parent's pages until
# `exec`): started straight from this one, which holds pyarrow's 5M-row table and two models,
# a run's peak read as this process's (2.38 GB at 5M rows, where the run itself took 1.43 GB).
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def timed(command: list[str], cwd: pathlib.Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of one process, which must succeed."""
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        process = subprocess.Popen(
            [PYTHON, "-c", LAUNCHER, peak.name, *command],
            cwd=cwd,
            env=QUIET,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        stderr = process.stderr.read()
        status = process.wait()
        seconds = time.perf_counter() - start
        if status != 0:
            tail = stderr.decode(errors="replace").splitlines()[-15:]
            sys.exit(f"{' '.join(command[:3])} failed:\n" + "\n".join(tail))
        return seconds, int(peak.read()) / 1024**2


def taxi_config(work: pathlib.Path, data_root: pathlib.Path, window: int | None = None) -> str:
    raw = yaml.safe_load((ROOT / "pipeline/configs/taxi.yaml").read_text())
    raw["data"]["root"] = str(data_root)
    raw["schema"] = str(ROOT / raw["schema"])
    if window:
        raw["data"]["window"] = window
    raw["outputs"] = {
        "pipeline_root": str(work / "root"),
        "metadata": str(work / "metadata.sqlite"),
        "serving_dir": str(work / "serving"),
    }
    path = work / "taxi.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def auc_on(model_dir: pathlib.Path, examples: list[bytes], labels) -> float:
    import tensorflow as tf
    from sklearn.metrics import roc_auc_score

    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    scores = []
    for start in range(0, len(examples), 1024):
        batch = tf.constant(examples[start : start + 1024])
        (output,) = serve(examples=batch).values()
        scores.extend(output.numpy().reshape(-1).tolist())
    return roc_auc_score(labels, scores)


def template_eval_rows(root: pathlib.Path):
    """The template's eval split, with the label its preprocessing derives: missing fare and
    tips filled with 0, compared in float32 (in float64, 22 of its 4,966 rows at exactly 20%
    come out the other way)."""
    import numpy as np
    import tensorflow as tf

    files = tf.io.gfile.glob(f"{root}/root/CsvExampleGen/examples/*/Split-eval/*.gz")
    examples, labels = [], []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        raw = record.numpy()
        feature = tf.train.Example.FromString(raw).features.feature
        fare = feature["fare"].float_list.value
        tips = feature["tips"].float_list.value
        fare_value = np.float32(fare[0] if fare else 0.0)
        tips_value = np.float32(tips[0] if tips else 0.0)
        examples.append(raw)
        labels.append(int(tips_value > np.float32(0.2) * fare_value))
    return examples, labels


def trained_model(out: pathlib.Path) -> pathlib.Path:
    """The Trainer's serving model in a run's pipeline root, pushed or not (the template
    pushes only what its accuracy threshold blesses)."""
    return max(out.glob("root/**/Trainer/model/*/Format-Serving"), key=lambda p: p.stat().st_mtime)


def against_the_template(repeats: int) -> None:
    import tfx

    template = pathlib.Path(tfx.__file__).parent / "experimental/templates/taxi"
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        code = work / "template"
        shutil.copytree(template, code, ignore=shutil.ignore_patterns("__pycache__", "*_test.py"))
        (code / "run.py").write_text(TEMPLATE_RUNNER)
        # The template ships with every step after ExampleGen commented out, for its tutorial's
        # readers to add one by one: all of them in, as the tutorial ends.
        chain = code / "pipeline" / "pipeline.py"
        chain.write_text(chain.read_text().replace("# components.append(", "components.append("))
        data = work / "data"
        data.mkdir()
        spans = sorted((ROOT / "data/taxi").glob("span-*/*.csv"))
        lines = [spans[0].read_text().splitlines()[0]]
        for path in spans:
            lines += path.read_text().splitlines()[1:]
        (data / "data.csv").write_text("\n".join(lines) + "\n")
        print(f"template vs ours: {len(lines) - 1} rows, {repeats} rounds alternating")
        walls: dict[str, list[float]] = {"template": [], "ours": []}
        peaks: dict[str, list[float]] = {"template": [], "ours": []}
        for round_ in range(repeats):
            order = ("template", "ours") if round_ % 2 == 0 else ("ours", "template")
            for who in order:
                out = work / f"{who}-{round_}"
                out.mkdir()
                if who == "template":
                    command = [PYTHON, "run.py", str(out), str(data)]
                    seconds, peak = timed(command, cwd=code)
                else:
                    config = taxi_config(out, ROOT / "data/taxi")
                    seconds, peak = timed([TFXP, "run", "--backfill", "--config", config])
                walls[who].append(seconds)
                peaks[who].append(peak)
                print(f"  round {round_ + 1} {who:<8} {seconds:6.1f} s  {peak:5.2f} GB")
        examples, labels = template_eval_rows(work / "template-0")
        aucs = {
            who: auc_on(trained_model(work / f"{who}-0"), examples, labels)
            for who in ("template", "ours")
        }
    median = {who: statistics.median(values) for who, values in walls.items()}
    for who in ("template", "ours"):
        print(
            f"{who:<8} median {median[who]:6.1f} s, peak RSS {max(peaks[who]):.2f} GB, "
            f"AUC {aucs[who]:.4f} on the template's {len(labels)} eval rows"
        )
    rounds = ", ".join(
        f"{o / t:.2f}" for o, t in zip(walls["ours"], walls["template"], strict=True)
    )
    print(
        f"ours / template = {median['ours'] / median['template']:.2f} "
        f"(AUC {aucs['ours'] - aucs['template']:+.4f}); round by round {rounds}"
    )


def pyarrow_read_seconds(span_root: pathlib.Path) -> float:
    """Seconds pyarrow takes to read the span's CSV into a table, all cores (the fastest of
    two reads, so neither pays for a cold page cache): the I/O speed ingestion is held to."""
    import pyarrow.csv

    (path,) = span_root.glob("span-*/*.csv")
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        pyarrow.csv.read_csv(path)
        best = min(best, time.perf_counter() - start)
    return best


def at_scale(sizes: list[int]) -> None:
    from metadata.reader import MetadataReader
    from metadata.store import open_store

    print("ours on one synthetic span (window 1): seconds, and rows/s of the span's rows")
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = pathlib.Path(tmp)
            subprocess.run(
                [TFXP, "data", "synth", "--rows", str(rows), "--spans", "1", "--out", str(work)],
                check=True,
                env=QUIET,
                stdout=subprocess.DEVNULL,
            )
            arrow_seconds = pyarrow_read_seconds(work)
            config = taxi_config(work, work, window=1)
            seconds, peak = timed([TFXP, "run", "--config", config])
            reader = MetadataReader(open_store(sqlite=work / "metadata.sqlite"))
            run = reader.run(reader.run_ids()[0])
            print(
                f"{rows:>9,} rows: {seconds:6.1f} s wall, {rows / seconds:8,.0f} rows/s, "
                f"peak RSS {peak:.2f} GB"
            )
            for node, node_seconds in sorted(run.node_seconds.items(), key=lambda kv: -kv[1]):
                if node_seconds >= 0.5:
                    print(
                        f"    {node:<28} {node_seconds:7.1f} s  "
                        f"{rows / node_seconds:>10,.0f} rows/s"
                    )
            outside = seconds - sum(run.node_seconds.values())
            print(f"    {'(imports, checks, report)':<28} {outside:7.1f} s")
            ingest = run.node_seconds["CsvExampleGen"]
            print(
                f"    pyarrow.csv.read_csv of the same CSV: {arrow_seconds:.2f} s, "
                f"{rows / arrow_seconds:,.0f} rows/s; CsvExampleGen runs at "
                f"1/{ingest / arrow_seconds:.1f} of that"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--skip-template", action="store_true")
    args = parser.parse_args()
    if not args.skip_template:
        against_the_template(args.repeats)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if sizes:
        at_scale(sizes)
    print(json.dumps({"cores": os.cpu_count()}))


if __name__ == "__main__":
    main()
