"""`tfxp report [RUN]`: the page of a run (the newest by default) and the run history,
written again from ML Metadata, and where they are."""

from __future__ import annotations

from cli import exits, render, store_options


def register(commands) -> None:
    report = commands.add_parser(
        "report", help="write the HTML page of a run (default: the newest) and the run history"
    )
    report.add_argument("run", nargs="?", default=None, help="a run id from `tfxp runs`")
    store_options.add_config(report, needs="the folder the pages go in (beside the serving folder)")
    report.add_argument(
        "--open", action="store_true", help="print the page as a file:// address to open"
    )
    report.set_defaults(handle=handle)


def handle(args) -> int:
    from reports.pages import write_pages

    render.report_written(write_pages(store_options.config_file(args), args.run), as_url=args.open)
    return exits.EXIT_OK
