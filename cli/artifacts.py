"""`tfxp artifacts`: artifacts with type, producer, run and key properties."""

from __future__ import annotations

from cli import exits, render, store_options


def register(commands) -> None:
    artifacts = commands.add_parser(
        "artifacts", help="artifacts with type, producer, run and key properties"
    )
    store_options.add(artifacts)
    artifacts.add_argument("--type", dest="type_name", help="e.g. Model, Examples")
    artifacts.add_argument("--run", help="only the artifacts of this run")
    artifacts.set_defaults(handle=handle)


def handle(args) -> int:
    views = store_options.reader(args).artifacts(args.type_name, args.run)
    render.output(views, as_json=args.json, text=render.artifacts)
    return exits.EXIT_OK
