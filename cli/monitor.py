"""`tfxp monitor`: the served model's logged traffic judged against the config's `monitoring:`
limits and the schema's comparators (exit 3 on a finding, for a scheduler to act on), and with
`--retrain`, the loop closed; `tfxp replay`: a CSV file sent to the server as traffic."""

from __future__ import annotations

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    monitor = commands.add_parser(
        "monitor", help="judge the served model's traffic: inputs, outputs, system, quality"
    )
    monitor.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    monitor.add_argument(
        "--since", default=None, help="a duration back (2h) or a moment (2026-11-30T01:00:00Z)"
    )
    monitor.add_argument("--until", default=None, help="as --since (default: now)")
    monitor.add_argument(
        "--window", default=None, help="window length, e.g. 30m (default: the config's)"
    )
    monitor.add_argument(
        "--retrain",
        action="store_true",
        help="when a configured trigger fires, export labelled answers as a new span and run",
    )
    monitor.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="KIND:FEATURE",
        help="with --retrain: a gate finding the run accepts on purpose; repeatable",
    )
    monitor.set_defaults(handle=handle)

    replay = commands.add_parser("replay", help="send a CSV file's rows to `tfxp serve`")
    replay.add_argument("--csv", required=True, help="rows with a header, as the spans hold")
    replay.add_argument("--url", default="http://127.0.0.1:8501", help="the server")
    replay.add_argument("--batch", type=int, default=1, help="rows per request (default 1)")
    replay.add_argument(
        "--feedback", type=float, default=0.0, help="share of rows whose label is posted back"
    )
    replay.add_argument("--limit", type=int, default=None, help="at most this many rows")
    replay.add_argument("--seed", type=int, default=0, help="which rows get feedback")
    replay.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    replay.set_defaults(handle=handle_replay)


def handle(args) -> int:
    import time

    from monitoring.monitor import monitor
    from monitoring.retrain import retrain
    from monitoring.traffic import parse_since
    from pipeline.config import duration_seconds, load_config
    from pipeline.local_runner import load_runner
    from reports.pages import reporting

    config = load_config(args.config)
    _ = load_runner() if args.retrain else None  # before TensorFlow: a clean exit after a run
    now = time.time()
    report = monitor(
        config,
        since=parse_since(args.since, now) if args.since else None,
        until=parse_since(args.until, now) if args.until else None,
        window_seconds=duration_seconds(args.window, "--window") if args.window else None,
    )
    render.monitor_report(report)
    done = (
        retrain(
            config,
            report.alerts,
            args.allow,
            render.run_started,
            reporting(config, render.run_outcome),  # its page, as `tfxp run` writes
            render.span_refused,
            render.run_step,
        )
        if args.retrain
        else None
    )
    render.retrained(done)
    return exits.monitor_exit_code(report, done)


def handle_replay(args) -> int:
    import pathlib

    from pipeline.config import load_config
    from pipeline.schema import read_schema, with_label_classes
    from serving.examples import RequestSchema
    from serving.replay import replay

    config = load_config(args.config)
    schema = read_schema(config.schema_file)
    config = with_label_classes(schema, config)  # feedback names a class by its index
    features = [f.name for f in config.model.features]
    request = RequestSchema.from_schema(schema, features)
    done = replay(
        args.url,
        config.name,
        pathlib.Path(args.csv),
        request,
        config.model.label,
        args.feedback,
        args.batch,
        args.limit,
        args.seed,
        na_values=config.na_values,
    )
    render.replayed(done, args.url)
    return exits.EXIT_OK
