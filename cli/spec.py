"""`tfxp compile` and `tfxp submit`: the pipeline as a Kubeflow Pipelines v2 spec, and a run
of it."""

from __future__ import annotations

import pathlib

from cli import DEFAULT_CONFIG, exits, render

DEFAULT_BUILD_DIR = "kubeflow/build"


def register(commands) -> None:
    compile_ = commands.add_parser("compile", help="compile the pipeline for Kubeflow Pipelines v2")
    compile_.add_argument("--config", default=DEFAULT_CONFIG)
    compile_.add_argument("--profile", required=True, help="Kubeflow profile YAML")
    compile_.add_argument("--output-dir", default=DEFAULT_BUILD_DIR)
    compile_.add_argument("--yaml", action="store_true", help="also write the spec as YAML")
    compile_.add_argument(
        "--target",
        choices=("vertex", "kfp"),
        default=None,
        help="backend: Vertex AI Pipelines or open-source Kubeflow Pipelines (default: profile's)",
    )
    compile_.set_defaults(handle=handle_compile)
    submit = commands.add_parser("submit", help="start a run of a compiled pipeline on KFP")
    submit.add_argument("--host", required=True, help="KFP endpoint, e.g. http://localhost:8080")
    submit.add_argument(
        "--spec",
        default=None,
        help=f"compiled spec (default: {DEFAULT_BUILD_DIR}/<config name>.json)",
    )
    submit.add_argument(
        "--config", default=DEFAULT_CONFIG, help="names the default spec (default: taxi)"
    )
    submit.add_argument("--experiment", default=None)
    submit.add_argument("--run-name", default=None)
    submit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="runtime parameter, e.g. data_root=gs://bucket/data",
    )
    submit.set_defaults(handle=handle_submit)


def handle_compile(args) -> int:
    from kubeflow.compile import compile_pipeline
    from kubeflow.profile import load_profile
    from pipeline.config import load_config

    profile = load_profile(args.profile)
    formats = ("json", "yaml") if args.yaml else ("json",)
    paths = compile_pipeline(
        load_config(args.config), profile, pathlib.Path(args.output_dir), formats, args.target
    )
    render.compiled(paths, profile.image, args.target or profile.target)
    return exits.EXIT_OK


def handle_submit(args) -> int:
    from kubeflow.submit import parse_params, submit
    from pipeline.config import load_config

    spec = args.spec or f"{DEFAULT_BUILD_DIR}/{load_config(args.config).name}.json"
    render.submitted(
        submit(
            args.host,
            pathlib.Path(spec),
            parse_params(args.param),
            experiment=args.experiment,
            run_name=args.run_name,
        )
    )
    return exits.EXIT_OK
