"""The options every command that reads ML Metadata takes, and the reader they open; and the
`--config` of commands that need more than the store."""

from __future__ import annotations

import argparse
import pathlib

from cli import CONFIG_HELP, DEFAULT_CONFIG
from cli.exits import UsageError


def add(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--metadata", help="SQLite store (default: the config's)")
    where.add_argument(
        "--mysql",
        metavar="HOST:PORT/DATABASE",
        help="MySQL store; password from MLMD_MYSQL_PASSWORD",
    )
    where.add_argument(
        "--mlmd-grpc",
        metavar="HOST:PORT",
        help="an ML Metadata gRPC service, e.g. Kubeflow's metadata-grpc-service port-forwarded",
    )
    parser.add_argument("--mysql-user", default=None, help="MySQL user (with --mysql)")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def reader(args):
    """A read-only reader over the store the options name: --mlmd-grpc, --mysql, --metadata,
    or the config's SQLite file."""
    from metadata.reader import MetadataReader
    from metadata.store import open_store
    from pipeline.config import load_config

    if args.mlmd_grpc:
        return MetadataReader(open_store(grpc=args.mlmd_grpc))
    if args.mysql:
        return MetadataReader(open_store(mysql=args.mysql, mysql_user=args.mysql_user))
    sqlite = (
        pathlib.Path(args.metadata) if args.metadata else load_config(args.config).metadata_path
    )
    return MetadataReader(open_store(sqlite=sqlite))


def add_config(parser: argparse.ArgumentParser, needs: str) -> None:
    """`--config` for a command that needs `needs`, which only the config names. A `--metadata`
    (as the store-reading commands take) is accepted only to be refused in one line."""
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    parser.add_argument("--metadata", help=argparse.SUPPRESS)
    parser.set_defaults(needs_from_config=needs)


def config_file(args) -> str:
    """The `--config` of a command set up by `add_config`; `--metadata` cannot stand in."""
    if args.metadata:
        raise UsageError(
            f"--metadata is not taken by this command: it needs {args.needs_from_config}, "
            "which only the config names; give --config with the dataset's YAML instead"
        )
    return args.config
