"""Exit codes, from one table.

0 done (a model that misses its thresholds is a result, not an error); 2 a mistake the user or
the environment can make (bad config, profile, schema, data folder, store, id, a non-portable
pipeline, an unreachable endpoint, a store another run holds, a full disk, a read-only folder),
reported as one line (`TFXP_DEBUG=1` prints the traceback of an environment fault too); 3 the
data gate stopped the run, `tfxp validate` found problems, or `tfxp monitor` a finding; 130
interrupted (Ctrl-C); 141 the reader of the output went away (`tfxp runs | head`); 1 anything
else: a bug, with its traceback.
"""

from __future__ import annotations

import errno
import re

from pipeline.outcome import Result

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_FINDINGS = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader went away (`tfxp runs | head`), as git does


class UsageError(ValueError):
    """An argument the parser accepted but the command cannot use; one line."""


# A run's exit code by what it ended in.
RUN_EXIT_CODES = {
    Result.PUSHED: EXIT_OK,
    Result.ALREADY_SERVING: EXIT_OK,
    Result.NOT_BLESSED: EXIT_OK,
    Result.OLDER_THAN_SERVED: EXIT_OK,
    Result.CHECKED_IN: EXIT_OK,
    Result.STOPPED_AT_GATE: EXIT_FINDINGS,
}


def run_exit_code(outcome) -> int:
    """`tfxp run`'s code: by the result, or 3 when a span's files were refused before a run."""
    from pipeline.outcome import SpanRefused

    return EXIT_FINDINGS if isinstance(outcome, SpanRefused) else RUN_EXIT_CODES[outcome.result]


def findings_exit_code(findings: list) -> int:
    return EXIT_FINDINGS if findings else EXIT_OK


def monitor_exit_code(report, retrained) -> int:
    """3 on any finding, or when `--retrain`'s run was stopped at the gate or refused."""
    run = retrained.outcome if retrained is not None else None
    return max(findings_exit_code(list(report.alerts)), run_exit_code(run) if run else EXIT_OK)


def user_errors() -> tuple[type[Exception], ...]:
    """Every exception kind that is the user's or the environment's doing, not a bug."""
    from cli.render import OutputError
    from datatools.synth import SynthError
    from kubeflow.compile import PortabilityError
    from kubeflow.submit import SubmitError
    from metadata.store import MetadataError
    from pipeline.config import ConfigError
    from pipeline.run_lock import StoreBusy
    from pipeline.schema import SchemaError
    from pipeline.spans import DataError
    from serving.deployment import DeploymentError
    from serving.examples import RequestError
    from serving.prediction_log import LogError
    from serving.replay import ReplayError
    from serving.repository import VersionNotFound

    return (
        ConfigError,
        SchemaError,
        DataError,
        PortabilityError,
        SubmitError,
        MetadataError,
        SynthError,
        OutputError,
        UsageError,
        StoreBusy,
        DeploymentError,
        RequestError,
        VersionNotFound,
        ReplayError,
        LogError,
    )


# OS errors that are the environment's, not a bug: each becomes one line naming the path.
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device; free some and run again",
    errno.EDQUOT: "disk quota exceeded; free some and run again",
    errno.EROFS: "read-only file system; point the config's outputs at a writable folder",
    errno.EACCES: "permission denied; make it writable or point the config elsewhere",
    errno.EPERM: "operation not permitted; make it writable or point the config elsewhere",
    errno.ENAMETOOLONG: "file name too long; shorten the pipeline name or the folder path",
    errno.EADDRINUSE: "address already in use; choose another --port or stop what holds it",
}
# The same faults as TensorFlow, Beam and SQLite word them: they wrap the OS error in their own
# exception types (Beam re-raises a worker's error as a RuntimeError holding its text).
_WORDINGS = {
    "no space left on device": errno.ENOSPC,
    "database or disk is full": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
    "read-only file system": errno.EROFS,
    "readonly database": errno.EROFS,
    "permission denied": errno.EACCES,
    "file name too long": errno.ENAMETOOLONG,
}
_PATH = re.compile(r"(/[^\s;:'\"\]\[]+)")


def _wraps_io(err: BaseException) -> bool:
    """Error types that carry an I/O failure only as text: TensorFlow's and ML Metadata's
    status errors, SQLite's, and the RuntimeError Beam re-raises a worker's error as."""
    module = type(err).__module__.split(".")[0]
    return type(err) is RuntimeError or module in ("tensorflow", "ml_metadata", "sqlite3")


def environment_error(err: BaseException | None) -> str | None:
    """One line for a fault the environment caused (a full disk, a read-only folder, ...),
    found in `err` or what it was raised from, naming the path where it shows; None for
    anything else (a bug keeps its traceback)."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in ENVIRONMENT_ERRNOS:
            where = err.filename
            problem = ENVIRONMENT_ERRNOS[err.errno]
            return f"{where}: {problem}" if where else problem
        text = str(err).lower() if _wraps_io(err) else ""
        for wording, code in _WORDINGS.items():
            if wording in text:
                path = _PATH.search(str(err))
                problem = ENVIRONMENT_ERRNOS[code]
                return f"{path.group(1)}: {problem}" if path else problem
        err = err.__cause__ or (None if err.__suppress_context__ else err.__context__)
    return None
