"""`tfxp schema infer`: a candidate schema beside the curated one, and the difference."""

from __future__ import annotations

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    schema = commands.add_parser("schema", help="curated schema tools")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_commands.add_parser(
        "infer", help="infer a candidate schema beside the curated one and print the difference"
    )
    infer.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    infer.set_defaults(handle=handle_infer)


def handle_infer(args) -> int:
    from datatools.schema_infer import infer_candidate
    from pipeline.config import load_config

    config = load_config(args.config)
    render.schema_candidate(infer_candidate(config), config.schema_file)
    return exits.EXIT_OK
