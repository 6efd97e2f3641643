"""`tfxp models`, `tfxp deploy`, `tfxp promote`, `tfxp rollback`: the registry of pushed
versions and the rollout of one of them, each step on record in ML Metadata."""

from __future__ import annotations

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render, store_options


def register(commands) -> None:
    listing = commands.add_parser(
        "models", help="pushed versions: run, span, metrics, blessing and role"
    )
    store_options.add_config(listing, needs="the serving folder (its versions and which is live)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handle=handle_models)

    deploy = commands.add_parser("deploy", help="put a version on trial beside the live one")
    deploy.add_argument("version", type=int, help="a version in the serving folder")
    mode = deploy.add_mutually_exclusive_group(required=True)
    mode.add_argument("--shadow", action="store_true", help="scores every request, unseen")
    mode.add_argument("--canary", type=float, metavar="PERCENT", help="answers PERCENT of requests")
    mode.add_argument("--blue-green", action="store_true", help="loaded; `tfxp promote` switches")
    for parser, about in (
        (deploy, None),
        (commands.add_parser("promote", help="make the candidate live"), "promote"),
        (commands.add_parser("rollback", help="back to the previous live version"), "rollback"),
    ):
        parser.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
        parser.add_argument("--why", default="", help="recorded with the step in ML Metadata")
        parser.set_defaults(handle=handle_rollout, action=about or "deploy")


def handle_models(args) -> int:
    from pipeline.config import load_config
    from serving.registry import models

    config = load_config(store_options.config_file(args))
    render.output(models(config), as_json=args.json, text=render.models)
    return exits.EXIT_OK


def handle_rollout(args) -> int:
    from pipeline.config import load_config
    from serving.deployment import BLUE_GREEN, CANARY, SHADOW
    from serving.rollout import apply

    version = getattr(args, "version", None)
    canary = getattr(args, "canary", None)
    mode = (
        SHADOW if getattr(args, "shadow", False) else CANARY if canary is not None else BLUE_GREEN
    )
    done = apply(load_config(args.config), args.action, args.why, version, mode, canary or 0.0)
    render.rollout(done)
    return exits.EXIT_OK
