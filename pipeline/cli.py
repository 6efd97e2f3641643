"""`tfxp`: the command line. It parses arguments and calls library functions; no logic here.

Exit codes: 0 done (a model that misses its thresholds is a result, not an error), 2 bad config,
schema or data folder, 3 the data gate stopped the run, 1 anything else (a bug: traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

DEFAULT_CONFIG = "pipeline/configs/taxi.yaml"
EXIT_USER_ERROR = 2
EXIT_GATE = 3


def _quiet() -> None:
    """Keep TensorFlow's and Google clients' start-up chatter out of the user's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfxp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the whole pipeline locally")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="dataset YAML (default: taxi)")
    schema = commands.add_parser("schema", help="curated schema tools")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_commands.add_parser(
        "infer", help="infer a candidate schema beside the curated one and print the difference")
    infer.add_argument("--config", default=DEFAULT_CONFIG)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet()
    from pipeline.config import ConfigError, load_config
    from pipeline.data import DataError
    from pipeline.schema import SchemaError

    try:
        config = load_config(args.config)
        if args.command == "run":
            return _run(config)
        return _schema_infer(config)
    except (ConfigError, SchemaError, DataError) as err:
        print(f"tfxp: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


def _run(config) -> int:
    from components.example_gate import DataGateError
    from pipeline.local_runner import run_local
    from pipeline.run_report import latest_run, overall_metrics, threshold_failures

    print(f"tfxp: running pipeline '{config.name}' on {config.data_root}", flush=True)
    try:
        run_local(config)
    except Exception as err:  # the gate's error arrives through TFX's launcher
        gate = _find_cause(err, DataGateError)
        if gate is None:
            raise
        print(f"tfxp: stopped at the data gate.\n{gate}", file=sys.stderr)
        return EXIT_GATE

    summary = latest_run(config.metadata_path, config.name)
    print(f"run {summary.run_id}:")
    for node, state in summary.node_states.items():
        print(f"  {node:<32} {state:<9} {summary.node_seconds[node]:6.1f} s")
    if summary.evaluation_uri:
        metrics = overall_metrics(summary.evaluation_uri)
        shown = ", ".join(f"{k}={metrics[k]:.4f}" for k in
                          ("auc", "binary_accuracy", "precision", "recall", "calibration",
                           "example_count") if k in metrics)
        print(f"eval split, overall: {shown}")
    if summary.pushed_version is not None:
        print(f"BLESSED and pushed: version {summary.pushed_version} at {summary.pushed_path}")
    elif summary.already_serving_version is not None:
        print(f"BLESSED; the same model is already the newest version "
              f"({summary.already_serving_version}) in {config.serving_dir}: nothing pushed.")
    else:
        print("NOT BLESSED: nothing pushed; the serving directory is unchanged.")
        for line in threshold_failures(summary.evaluation_uri) if summary.evaluation_uri else []:
            print(f"  {line}")
    print(f"metadata: {config.metadata_path}\nartifacts: {config.pipeline_root}")
    return 0


def _schema_infer(config) -> int:
    from pipeline.schema import infer_candidate

    candidate = infer_candidate(config)
    if candidate.diff:
        print(candidate.diff)
        print(f"tfxp: candidate written to {candidate.path}; review the difference above and copy "
              f"what you accept into {config.schema_file}")
    else:
        print(f"tfxp: the inferred schema matches {config.schema_file}")
    return 0


def _find_cause(err: BaseException, kind: type) -> BaseException | None:
    while err is not None:
        if isinstance(err, kind):
            return err
        err = err.__cause__ or err.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
