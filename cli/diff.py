"""`tfxp diff RUN_A RUN_B`: config and input changes, split sizes, schema diff, metrics per
slice with deltas."""

from __future__ import annotations

from cli import exits, render, store_options


def register(commands) -> None:
    diff = commands.add_parser("diff", help="what changed between two runs and what it did")
    store_options.add(diff)
    diff.add_argument("run_a", help="a run id (a unique prefix is enough)")
    diff.add_argument("run_b", help="the run to compare with it")
    diff.set_defaults(handle=handle)


def handle(args) -> int:
    from metadata import lineage

    run_diff = lineage.diff(store_options.reader(args), args.run_a, args.run_b)
    render.output(run_diff, as_json=args.json, text=render.diff)
    return exits.EXIT_OK
