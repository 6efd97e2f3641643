"""Opening a store: a SQLite file (local runs), MySQL (a shared store) or an ML Metadata gRPC
service (Kubeflow's `metadata-grpc-service`), read-only by default.

The MySQL password comes from the environment (MLMD_MYSQL_PASSWORD), never a flag or a file.
"""

from __future__ import annotations

import contextlib
import os
import pathlib

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

PASSWORD_VARIABLE = "MLMD_MYSQL_PASSWORD"
_SQLITE = metadata_store_pb2.SqliteMetadataSourceConfig


class MetadataError(RuntimeError):
    """A store that is missing or unreadable, or an id or run it does not hold; one line."""


def sqlite_connection(
    path: pathlib.Path, writable: bool = False, create: bool = False
) -> metadata_store_pb2.ConnectionConfig:
    """A SQLite store's connection: read-only, read-write, or (for LocalDagRunner, which
    writes a run) created if absent."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = (
        _SQLITE.READWRITE_OPENCREATE
        if create
        else _SQLITE.READWRITE
        if writable
        else _SQLITE.READONLY
    )
    return config


def mysql_connection(address: str, user: str | None) -> metadata_store_pb2.ConnectionConfig:
    """HOST[:PORT]/DATABASE, the password from the environment."""
    host_port, _, database = address.partition("/")
    host, _, port = host_port.partition(":")
    if port and not port.isdigit():
        raise MetadataError(f"--mysql {address!r}: the port must be a number (HOST:PORT/DATABASE)")
    config = metadata_store_pb2.ConnectionConfig()
    config.mysql.host, config.mysql.database = host, database
    config.mysql.port = int(port or 3306)
    config.mysql.user = user or ""
    config.mysql.password = os.environ.get(PASSWORD_VARIABLE, "")
    return config


def grpc_connection(address: str) -> metadata_store_pb2.MetadataStoreClientConfig:
    """HOST:PORT of an ML Metadata gRPC service, e.g. a port-forward to KFP's
    `metadata-grpc-service` (8080)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise MetadataError(f"--mlmd-grpc {address!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    config = metadata_store_pb2.MetadataStoreClientConfig(host=host, port=int(port))
    config.client_timeout_sec = 30
    return config


def open_store(
    sqlite: pathlib.Path | None = None,
    mysql: str | None = None,
    mysql_user: str | None = None,
    writable: bool = False,
    grpc: str | None = None,
) -> metadata_store.MetadataStore:
    """A store that exists and this ML Metadata can read; never created or migrated here."""
    if grpc:
        config, where = grpc_connection(grpc), f"ML Metadata service {grpc}"
    elif mysql:
        config, where = mysql_connection(mysql, mysql_user), f"mysql {mysql}"
    else:
        if sqlite is None or not pathlib.Path(sqlite).is_file():
            raise MetadataError(f"{sqlite}: no ML Metadata store there (has the pipeline run?)")
        with open(sqlite, "rb") as handle:
            if not handle.read(16).startswith(b"SQLite format 3"):
                raise MetadataError(f"{sqlite}: not an ML Metadata store (not a SQLite file)")
        config = sqlite_connection(pathlib.Path(sqlite), writable=writable)
        where = str(sqlite)
    try:
        store = metadata_store.MetadataStore(config)
        store.get_context_types()
    except Exception as err:  # MLMD raises its own status errors; the user needs one line
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        if any(w in message.lower() for w in ("schema version", "database version", "migration")):
            raise MetadataError(
                f"{where}: unsupported ML Metadata schema version ({message}); "
                "this tool never migrates a store"
            ) from None
        raise MetadataError(f"{where}: not a readable ML Metadata store ({message})") from None
    return store


def sqlite_integrity(path: pathlib.Path) -> list[str]:
    """SQLite's own check of a store file, read-only: empty when the file is sound."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as err:
        return [str(err)]
    return [] if rows == ["ok"] else rows


def backup_sqlite(path: pathlib.Path, destination: pathlib.Path) -> None:
    """A consistent copy of a SQLite store (SQLite's online backup), written beside the
    destination and renamed into place, so a copy is whole or absent."""
    import sqlite3

    if destination.exists():
        raise MetadataError(f"{destination}: exists; choose a new file for the copy")
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source:
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)
        os.replace(partial, destination)
    except sqlite3.Error as err:
        raise MetadataError(f"{destination}: the copy failed ({err})") from None
    finally:
        if partial.exists():
            partial.unlink()
