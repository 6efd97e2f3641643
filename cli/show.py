"""`tfxp show ID`: one artifact (12 or a12) or execution (e7) in full, as JSON."""

from __future__ import annotations

from cli import exits, render, store_options


def register(commands) -> None:
    show = commands.add_parser("show", help="one artifact (ID or aID) or execution (eID) in full")
    store_options.add(show)
    show.add_argument("id", help="an artifact (12 or a12) or an execution (e7)")
    show.set_defaults(handle=handle)


def record_id(text: str) -> tuple[str, int]:
    """('execution' or 'artifact', number) from e7, a12 or 12."""
    kind = "execution" if text.startswith("e") else "artifact"
    digits = text[1:] if text[:1] in ("a", "e") else text
    if not digits.isdigit():
        raise exits.UsageError(f"{text!r} is not an id (artifacts: 12 or a12, executions: e7)")
    return kind, int(digits)


def handle(args) -> int:
    kind, number = record_id(args.id)
    reader = store_options.reader(args)
    render.print_json(getattr(reader, kind)(number))  # the full record reads best as JSON
    return exits.EXIT_OK
