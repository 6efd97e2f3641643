"""`tfxp lineage`: what made an artifact or a pushed model, back to the CSV files (or, with
`--downstream`, what it was used for)."""

from __future__ import annotations

from cli import exits, render, store_options
from cli.show import record_id


def register(commands) -> None:
    lineage = commands.add_parser("lineage", help="provenance of an artifact or a pushed model")
    store_options.add(lineage)
    target = lineage.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", help="artifact id")
    target.add_argument(
        "--pushed", metavar="latest|VERSION", help="the pushed model of this version"
    )
    lineage.add_argument(
        "--downstream", action="store_true", help="what the artifact was used to make"
    )
    lineage.add_argument(
        "--format", choices=("text", "dot", "svg"), default="text", help="svg needs Graphviz"
    )
    lineage.add_argument("--output", help="file for dot/svg (default: stdout for dot)")
    lineage.set_defaults(handle=handle)


def handle(args) -> int:
    from metadata import lineage

    reader = store_options.reader(args)
    artifact_id = (
        lineage.pushed_model(reader, args.pushed) if args.pushed else record_id(args.id)[1]
    )
    walk = lineage.downstream if args.downstream else lineage.upstream
    tree = walk(reader, artifact_id)
    render.output(
        tree, as_json=args.json, text=lambda t: render.lineage(t, args.format, args.output)
    )
    return exits.EXIT_OK
