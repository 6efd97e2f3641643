"""`tfxp compile` and `tfxp submit`: the pipeline as a Kubeflow Pipelines v2 spec, and a run
of it."""

from __future__ import annotations

import pathlib

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render
from kubeflow.profile import TARGETS

DEFAULT_BUILD_DIR = "kubeflow/build"


def register(commands) -> None:
    compile_ = commands.add_parser("compile", help="compile the pipeline for Kubeflow Pipelines v2")
    compile_.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    compile_.add_argument("--profile", required=True, help="Kubeflow profile YAML")
    compile_.add_argument(
        "--output-dir", default=DEFAULT_BUILD_DIR, help="where the compiled specs go"
    )
    compile_.add_argument("--yaml", action="store_true", help="also write the spec as YAML")
    compile_.add_argument(
        "--target",
        choices=TARGETS,
        default=None,
        help="backend: Vertex AI Pipelines or open-source Kubeflow Pipelines (default: profile's)",
    )
    compile_.set_defaults(handle=handle_compile)
    submit = commands.add_parser(
        "submit", help="start a run of a compiled pipeline on Vertex AI Pipelines or KFP"
    )
    submit.add_argument(
        "--target",
        choices=TARGETS,
        default=None,
        help="backend (default: vertex with --project, kfp with --host)",
    )
    submit.add_argument(
        "--spec",
        default=None,
        help=f"compiled spec (default: {DEFAULT_BUILD_DIR}/<config name>.json)",
    )
    submit.add_argument(
        "--config", default=DEFAULT_CONFIG, help="names the default spec (default: taxi)"
    )
    submit.add_argument("--span", type=int, default=None, help="span to ingest (default: newest)")
    submit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="runtime parameter, e.g. data_root=gs://bucket/data",
    )
    submit.add_argument("--run-name", default=None, help="default: <pipeline>-<UTC time>")
    kfp = submit.add_argument_group("open-source Kubeflow Pipelines")
    kfp.add_argument("--host", help="KFP endpoint, e.g. http://localhost:8080")
    kfp.add_argument("--namespace", default=None, help="multi-user KFP: the profile namespace")
    kfp.add_argument("--experiment", default=None, help="KFP experiment to file the run under")
    kfp.add_argument(
        "--token-file",
        type=pathlib.Path,
        default=None,
        help="file holding a bearer token (else $KFP_BEARER_TOKEN or $KF_PIPELINES_SA_TOKEN_PATH)",
    )
    vertex = submit.add_argument_group("Vertex AI Pipelines (Application Default Credentials)")
    vertex.add_argument("--project", help="Google Cloud project")
    vertex.add_argument("--region", help="e.g. us-central1")
    vertex.add_argument("--service-account", default=None, help="the pods run as this account")
    vertex.add_argument("--endpoint", default=None, help="API endpoint (default: the region's)")
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
    from kubeflow import submit
    from pipeline.config import load_config

    where = submit.backend(
        args.target,
        kfp=submit.KfpTarget(args.host, args.namespace, args.token_file, args.experiment),
        vertex=submit.VertexTarget(args.project, args.region, args.service_account, args.endpoint),
    )
    spec = pathlib.Path(args.spec or f"{DEFAULT_BUILD_DIR}/{load_config(args.config).name}.json")
    params = {**submit.span_param(args.span), **submit.parse_params(args.param)}
    render.submitted(submit.submit(where, spec, params, name=args.run_name))
    return exits.EXIT_OK
