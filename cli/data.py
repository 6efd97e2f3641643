"""`tfxp data synth`: taxi-like spans with drift injected on purpose."""

from __future__ import annotations

import pathlib

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    data = commands.add_parser("data", help="data tools")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    synth = data_commands.add_parser(
        "synth", help="taxi-like CSV data in spans, with drift injected on purpose"
    )
    synth.add_argument("--rows", type=int, required=True, help="rows in all, over the spans")
    synth.add_argument("--spans", type=int, default=1, help="span folders to write")
    synth.add_argument(
        "--drift",
        default="",
        metavar="SPEC",
        help="e.g. 'scale:fare*1.5@3,new:payment_type=Bitcoin:0.2@2' (see datatools/synth.py)",
    )
    synth.add_argument("--seed", type=int, default=0, help="the same seed, the same rows")
    synth.add_argument("--out", default="outputs/synth", help="folder for span-<k>/data.csv")
    synth.set_defaults(handle=handle_synth)

    from_log = data_commands.add_parser(
        "from-log", help="logged requests with feedback labels, as a new span for `tfxp run`"
    )
    from_log.add_argument(
        "--label-from", choices=["feedback"], default="feedback", help="where labels come from"
    )
    from_log.add_argument("--span", type=int, default=None, help="default: the newest + 1")
    from_log.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    from_log.set_defaults(handle=handle_from_log)


def handle_synth(args) -> int:
    from datatools.synth import synthesize

    render.written(synthesize(pathlib.Path(args.out), args.rows, args.spans, args.drift, args.seed))
    return exits.EXIT_OK


def handle_from_log(args) -> int:
    from monitoring.from_log import export_span
    from pipeline.config import load_config

    done = export_span(load_config(args.config), args.span)
    render.exported(done)
    return exits.EXIT_OK
