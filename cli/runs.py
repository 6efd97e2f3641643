"""`tfxp runs`: pipeline runs, newest first, with each step's state, the span and the push."""

from __future__ import annotations

from cli import exits, render, store_options


def register(commands) -> None:
    runs = commands.add_parser("runs", help="pipeline runs, newest first")
    store_options.add(runs)
    runs.set_defaults(handle=handle)


def handle(args) -> int:
    views = store_options.reader(args).runs()
    render.output(views, as_json=args.json, text=render.runs)
    return exits.EXIT_OK
