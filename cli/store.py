"""`tfxp store check` and `tfxp store backup DEST`: the local ML Metadata store's health, and a
consistent copy of it."""

from __future__ import annotations

import pathlib

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render, store_options


def register(commands) -> None:
    store = commands.add_parser("store", help="check or back up the local ML Metadata store")
    store_commands = store.add_subparsers(dest="store_command", required=True)
    check = store_commands.add_parser(
        "check",
        help="integrity, executions a dead run left running, artifacts whose files are gone, "
        "served versions the store does not know",
    )
    store_options.add_config(check, needs="the serving folder it checks against the store")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handle=handle_check)
    backup = store_commands.add_parser(
        "backup", help="a consistent copy of the store (taken while no run writes)"
    )
    backup.add_argument("destination", help="a new file for the copy")
    backup.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    backup.set_defaults(handle=handle_backup)


def handle_check(args) -> int:
    from pipeline.config import load_config
    from pipeline.recovery import inspect

    config = load_config(store_options.config_file(args))
    found = inspect(config)
    render.output(found, as_json=args.json, text=lambda f: render.store_findings(f, config))
    return exits.findings_exit_code(found)


def handle_backup(args) -> int:
    from pipeline.config import load_config
    from pipeline.recovery import backup

    written = backup(load_config(args.config), pathlib.Path(args.destination))
    render.written([written], " (a consistent copy of the ML Metadata store)")
    return exits.EXIT_OK
