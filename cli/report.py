"""`tfxp report [RUN]`: the page of a run (the newest by default) and the run history,
written again from ML Metadata, and where they are."""

from __future__ import annotations

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    report = commands.add_parser(
        "report", help="write the HTML page of a run (default: the newest) and the run history"
    )
    report.add_argument("run", nargs="?", default=None, help="a run id from `tfxp runs`")
    report.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    report.add_argument(
        "--open", action="store_true", help="print the page as a file:// address to open"
    )
    report.set_defaults(handle=handle)


def handle(args) -> int:
    from reports.pages import write_pages

    render.report_written(write_pages(args.config, args.run), as_url=args.open)
    return exits.EXIT_OK
