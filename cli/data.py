"""`tfxp data synth`: taxi-like spans with drift injected on purpose."""

from __future__ import annotations

import pathlib

from cli import exits, render


def register(commands) -> None:
    data = commands.add_parser("data", help="data tools")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    synth = data_commands.add_parser(
        "synth", help="taxi-like CSV data in spans, with drift injected on purpose"
    )
    synth.add_argument("--rows", type=int, required=True)
    synth.add_argument("--spans", type=int, default=1)
    synth.add_argument(
        "--drift",
        default="",
        metavar="SPEC",
        help="e.g. 'scale:fare*1.5@3,new:payment_type=Bitcoin:0.2@2' (see datatools/synth.py)",
    )
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--out", default="outputs/synth", help="folder for span-<k>/data.csv")
    synth.set_defaults(handle=handle_synth)


def handle_synth(args) -> int:
    from datatools.synth import synthesize

    render.written(synthesize(pathlib.Path(args.out), args.rows, args.spans, args.drift, args.seed))
    return exits.EXIT_OK
