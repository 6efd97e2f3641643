"""`tfxp`: the command line. It parses arguments and calls library functions; no logic here.

Exit codes: 0 done (a model that misses its thresholds is a result, not an error), 2 bad config,
profile, schema, data folder, non-portable pipeline or unreachable endpoint, 3 the data gate
stopped the run (or `validate` found problems), 1 anything else (a bug: traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import warnings

DEFAULT_CONFIG = "pipeline/configs/taxi.yaml"
DEFAULT_BUILD_DIR = "kubeflow/build"
EXIT_USER_ERROR = 2
EXIT_GATE = 3


def _quiet() -> None:
    """Keep TensorFlow's and Google clients' start-up chatter out of the user's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # deprecation notices from TFMA
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfxp", description="Run, check, inspect and ship the tfxp TFX pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the whole pipeline locally, on one span")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="dataset YAML (default: taxi)")
    run.add_argument("--span", type=int, default=None,
                     help="the span to ingest (default: the config's, normally the newest)")
    run.add_argument("--allow", action="append", default=[], metavar="KIND:FEATURE",
                     help="accept a gate finding on purpose, e.g. COMPARATOR_L_INFTY_HIGH:company "
                          "(recorded in ML Metadata); repeatable")
    run.add_argument("--backfill", action="store_true",
                     help="first check the earlier spans of the training window in through the "
                          "data gate, oldest first, so the window is filled on a new store (a "
                          "span stopped there stays out of the window; --allow is not applied "
                          "to them)")
    schema = commands.add_parser("schema", help="curated schema tools")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_commands.add_parser(
        "infer", help="infer a candidate schema beside the curated one and print the difference")
    infer.add_argument("--config", default=DEFAULT_CONFIG)
    data = commands.add_parser("data", help="data tools")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    synth = data_commands.add_parser(
        "synth", help="taxi-like CSV data in spans, with drift injected on purpose")
    synth.add_argument("--rows", type=int, required=True)
    synth.add_argument("--spans", type=int, default=1)
    synth.add_argument("--drift", default="", metavar="SPEC",
                       help="e.g. 'scale:fare*1.5@3,new:payment_type=Bitcoin:0.2@2' "
                            "(see pipeline/synth.py)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--out", default="outputs/synth", help="folder for span-<k>/data.csv")
    validate = commands.add_parser(
        "validate", help="check one CSV file against the curated schema, without a pipeline run")
    validate.add_argument("file")
    validate.add_argument("--against", default="schema", metavar="SPAN|schema",
                          help="also measure drift from this span of the config's data "
                               "(default: the schema only)")
    validate.add_argument("--config", default=DEFAULT_CONFIG)
    compile_ = commands.add_parser("compile", help="compile the pipeline for Kubeflow Pipelines v2")
    compile_.add_argument("--config", default=DEFAULT_CONFIG)
    compile_.add_argument("--profile", required=True, help="Kubeflow profile YAML")
    compile_.add_argument("--output-dir", default=DEFAULT_BUILD_DIR)
    compile_.add_argument("--yaml", action="store_true", help="also write the spec as YAML")
    submit = commands.add_parser("submit", help="start a run of a compiled pipeline on KFP")
    submit.add_argument("--host", required=True, help="KFP endpoint, e.g. http://localhost:8080")
    submit.add_argument("--spec", default=None,
                        help=f"compiled spec (default: {DEFAULT_BUILD_DIR}/<config name>.json)")
    submit.add_argument("--config", default=DEFAULT_CONFIG,
                        help="names the default spec (default: taxi)")
    submit.add_argument("--experiment", default=None)
    submit.add_argument("--run-name", default=None)
    submit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="runtime parameter, e.g. data_root=gs://bucket/data")
    for name, help_text in (("runs", "pipeline runs, newest first"),
                            ("artifacts", "artifacts with type, producer, run and key properties"),
                            ("show", "one artifact (ID or aID) or execution (eID) in full"),
                            ("lineage", "provenance of an artifact or a pushed model"),
                            ("diff", "what changed between two runs and what it did")):
        sub = commands.add_parser(name, help=help_text)
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--metadata", help="SQLite store (default: the config's)")
        where.add_argument("--mysql", metavar="HOST:PORT/DATABASE",
                           help="MySQL store; password from MLMD_MYSQL_PASSWORD")
        sub.add_argument("--mysql-user", default=None)
        sub.add_argument("--config", default=DEFAULT_CONFIG)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "artifacts":
            sub.add_argument("--type", dest="type_name")
            sub.add_argument("--run")
        elif name == "show":
            sub.add_argument("id")
        elif name == "lineage":
            target = sub.add_mutually_exclusive_group(required=True)
            target.add_argument("id", nargs="?", help="artifact id")
            target.add_argument("--pushed", metavar="latest|VERSION")
            sub.add_argument("--downstream", action="store_true")
            sub.add_argument("--format", choices=("text", "dot", "svg"), default="text")
            sub.add_argument("--output", help="file for dot/svg (default: stdout for dot)")
        elif name == "diff":
            sub.add_argument("run_a")
            sub.add_argument("run_b")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet()
    from pipeline.config import ConfigError, load_config
    from pipeline.data import DataError
    from pipeline.schema import SchemaError

    from kubeflow.compile import PortabilityError
    from kubeflow.submit import SubmitError

    from pipeline.run_report import MetadataError

    from pipeline.synth import SynthError

    try:
        if args.command == "data":
            return _synth(args)
        if args.command in ("runs", "artifacts", "show", "lineage", "diff"):
            from pipeline import lineage_cli

            return lineage_cli.dispatch(args)
        if args.command == "submit":
            return _submit(args)
        config = load_config(args.config)
        if args.command == "run":
            return _run(config, args.span, args.allow, args.backfill)
        if args.command == "compile":
            return _compile(config, args)
        if args.command == "validate":
            return _validate(config, args)
        return _schema_infer(config)
    except (ConfigError, SchemaError, DataError, PortabilityError, SubmitError,
            MetadataError, SynthError) as err:
        print(f"tfxp: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


def _run(config, span: int | None, allow: list[str], backfill: bool) -> int:
    """Each planned run in turn; a backfilled span the gate stops stays out of the window."""
    from pipeline.local_runner import run_plan

    for run_config, gate_only in run_plan(config, span, allow, backfill):
        where = f"span {run_config.span} of {config.data_root}"
        if not gate_only:
            print(f"tfxp: running pipeline '{config.name}' on {where}", flush=True)
            return _run_span(run_config, through_gate=False)
        print(f"tfxp: checking {where} in (data gate only)", flush=True)
        try:
            stopped = _run_span(run_config, through_gate=True)
        except Exception:
            print(f"tfxp: checking span {run_config.span} in failed (not at the data gate):",
                  file=sys.stderr)
            raise
        if stopped:
            print(f"tfxp: span {run_config.span} stays out of the training window; going on.",
                  file=sys.stderr)
    raise AssertionError("a run plan ends with the span asked for")


def _run_span(config, through_gate: bool) -> int:
    import pathlib

    from components.data_checks import GateReport
    from components.example_gate import DataGateError
    from pipeline.local_runner import run_local
    from pipeline.run_report import latest_run, overall_metrics, threshold_failures

    try:
        run_local(config, through_gate=through_gate)
    except Exception as err:  # the gate's error arrives through TFX's launcher
        gate = _find_cause(err, DataGateError)
        if gate is None:
            raise
        print(f"tfxp: stopped at the data gate.\n{gate}", file=sys.stderr)
        return EXIT_GATE

    summary = latest_run(config.metadata_path, config.name)
    if summary.gate_report_uri:
        report = GateReport.from_json(pathlib.Path(summary.gate_report_uri).read_text())
        print("\n".join(report.lines()))
    print(f"run {summary.run_id}:")
    for node, state in summary.node_states.items():
        print(f"  {node:<32} {state:<9} {summary.node_seconds[node]:6.1f} s")
    if through_gate:
        return 0
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


def _synth(args) -> int:
    import pathlib

    from pipeline.synth import synthesize

    for path in synthesize(pathlib.Path(args.out), args.rows, args.spans, args.drift, args.seed):
        print(f"tfxp: wrote {path}")
    return 0


def _validate(config, args) -> int:
    import pathlib

    from pipeline.validate import validate_file

    against = None
    if args.against != "schema":
        if not re.fullmatch(r"[1-9][0-9]*", args.against):
            print(f"tfxp: --against must be 'schema' or a span number, got {args.against!r}",
                  file=sys.stderr)
            return EXIT_USER_ERROR
        against = int(args.against)
    findings = validate_file(config, pathlib.Path(args.file), against)
    for finding in findings:
        print(f"{finding.split}: column '{finding.feature}': {finding.kind}: {finding.description}")
    if findings:
        print(f"tfxp: {len(findings)} problem(s) against {config.schema_file}", file=sys.stderr)
        return EXIT_GATE
    drift = f" and does not drift from span {against}" if against else ""
    print(f"tfxp: {args.file} conforms to {config.schema_file}{drift}")
    return 0


def _compile(config, args) -> int:
    import pathlib

    from kubeflow.compile import compile_pipeline
    from kubeflow.profile import load_profile

    profile = load_profile(args.profile)
    formats = ("json", "yaml") if args.yaml else ("json",)
    for path in compile_pipeline(config, profile, pathlib.Path(args.output_dir), formats):
        print(f"tfxp: wrote {path} (image {profile.image})")
    print("tfxp: note: each Kubeflow run ingests the newest span under data_root and trains on it "
          "alone; drift against the previous span and the window of accepted spans read ML "
          "Metadata in-process and run locally only (schema, label missing-rate and "
          "split-balance checks still gate, and skew when the profile sets serving_data_root).")
    return 0


def _submit(args) -> int:
    import pathlib

    from kubeflow.submit import parse_params, submit

    from pipeline.config import load_config

    spec = args.spec or f"{DEFAULT_BUILD_DIR}/{load_config(args.config).name}.json"
    run = submit(args.host, pathlib.Path(spec), parse_params(args.param),
                 experiment=args.experiment, run_name=args.run_name)
    print(f"run id: {run.run_id}\nurl: {run.url}")
    for name, value in sorted(run.parameters.items()):
        print(f"  {name} = {value}")
    return 0


def _find_cause(err: BaseException, kind: type) -> BaseException | None:
    while err is not None:
        if isinstance(err, kind):
            return err
        err = err.__cause__ or err.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
