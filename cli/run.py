"""`tfxp run`: the pipeline, locally, on one span (after checking earlier spans in, with
`--backfill`)."""

from __future__ import annotations

import argparse

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    run = commands.add_parser("run", help="run the whole pipeline locally, on one span")
    run.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    run.add_argument(
        "--span",
        type=int,
        default=None,
        help="the span to ingest (default: the config's, normally the newest)",
    )
    run.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="KIND:FEATURE",
        help="accept a gate finding on purpose, e.g. COMPARATOR_L_INFTY_HIGH:company "
        "(recorded in ML Metadata); repeatable",
    )
    run.add_argument(
        "--backfill",
        action="store_true",
        help="first check the earlier spans of the training window in through the "
        "data gate, oldest first, so the window is filled on a new store (a "
        "span stopped there stays out of the window; --allow is not applied "
        "to them)",
    )
    run.add_argument(
        "--replace-newer",
        action="store_true",
        help="push even if the served model was trained on newer spans than this run's "
        "(recorded in ML Metadata); without it such a model is blessed but not pushed",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="let TensorFlow, TFX and Beam log as they do (also before the command)",
    )
    run.set_defaults(handle=handle)


def handle(args) -> int:
    from pipeline import local_runner
    from pipeline.config import load_config
    from reports.pages import reporting

    config = load_config(args.config)
    outcome = local_runner.run(
        config,
        span=args.span,
        allow=args.allow,
        backfill=args.backfill,
        on_start=render.run_started,
        on_outcome=reporting(config, render.run_outcome),
        on_repairs=render.run_repairs,
        on_refused=render.span_refused,
        replace_newer=args.replace_newer,
        on_step=render.run_step,
        verbose=args.verbose,
    )
    return exits.run_exit_code(outcome)
