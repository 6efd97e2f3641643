"""`tfxp validate FILE.csv`: one file against the curated schema, the label limits and,
optionally, a span, without a pipeline run."""

from __future__ import annotations

import pathlib

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    validate = commands.add_parser(
        "validate", help="check one CSV file against the curated schema, without a pipeline run"
    )
    validate.add_argument("file", help="a CSV file with a header line, as the spans hold")
    validate.add_argument(
        "--against",
        default="schema",
        metavar="SPAN|schema",
        help="also measure drift from this span of the config's data (default: the schema only)",
    )
    validate.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    validate.set_defaults(handle=handle)


def against_span(text: str) -> int | None:
    """`schema` (None) or a span number."""
    if text == "schema":
        return None
    if not (text.isascii() and text.isdigit() and text[0] != "0"):
        raise exits.UsageError(f"--against must be 'schema' or a span number, got {text!r}")
    return int(text)


def handle(args) -> int:
    from datatools.validate import validate_file
    from pipeline.config import load_config

    against = against_span(args.against)
    config = load_config(args.config)
    found = validate_file(config, pathlib.Path(args.file), against)
    render.findings(found, args.file, config.schema_file, against)
    return exits.findings_exit_code(found)
