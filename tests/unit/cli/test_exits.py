"""What the environment or the user causes is one line and its own exit code; a bug keeps its
traceback."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from cli import exits
from cli.main import main
from tests.conftest import ROOT
from tests.unit.metadata.store_builder import StoreBuilder


class PermissionDenied(Exception):
    """Like google.api_core's 403: a server's refusal, not a folder's."""


def _raised_from(inner: BaseException, outer: BaseException, suppress: bool = False):
    try:
        try:
            raise inner
        except BaseException:
            if suppress:
                raise outer from None
            raise outer  # noqa: B904 - the context is what is being tested
    except BaseException as err:
        return err


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/out/m.sqlite"),
            "/out/m.sqlite: no space",
        ),
        (OSError(errno.EROFS, "Read-only file system", "/out"), "/out: read-only file system"),
        (
            RuntimeError(
                "ResourceExhaustedError: /out/root/Transform/9/x.pb; No space left on device "
                "[while running 'Analyze']"
            ),
            "/out/root/Transform/9/x.pb: no space left on the device",
        ),
        (sqlite3.OperationalError("database or disk is full"), "no space left on the device"),
        (
            _raised_from(OSError(errno.EACCES, "Permission denied", "/srv"), ValueError("bad")),
            "/srv: permission denied",
        ),
    ],
)
def test_environment_faults_become_one_line_naming_the_path(error, expected):
    line = exits.environment_error(error)
    assert line is not None and line.startswith(expected) and "\n" not in line


@pytest.mark.parametrize(
    "error",
    [
        ValueError("permission denied"),  # a bug's own words are not an environment fault
        PermissionDenied("403 Permission denied on resource /projects/p"),
        _raised_from(OSError(errno.ENOSPC, "full", "/x"), KeyError("k"), suppress=True),
        OSError(errno.ENOENT, "No such file or directory", "/x"),
    ],
)
def test_anything_else_is_left_to_its_traceback(error):
    assert exits.environment_error(error) is None


def test_ctrl_c_is_130_and_one_line_even_when_it_surfaces_as_another_error(monkeypatch, capsys):
    import cli.runs

    def interrupted_inside_a_library(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10_000_000):  # the handler runs between bytecodes
                pass
        except KeyboardInterrupt:
            raise TypeError from None  # what TensorFlow's C++ code was seen to turn it into
        return 0

    monkeypatch.setattr(cli.runs, "handle", interrupted_inside_a_library)
    assert main(["runs"]) == exits.EXIT_INTERRUPTED
    assert capsys.readouterr().err == "tfxp: interrupted; the next run closes what this one left\n"


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    store = tmp_path / "m.sqlite"
    builder = StoreBuilder(store)
    for n in range(300):  # more output than a pipe holds
        builder.step(builder.run(f"run-{n:04d}"), "CsvExampleGen")
    command = [sys.executable, "-c", "import sys, cli.main; sys.exit(cli.main.main())"]
    process = subprocess.Popen(
        [*command, "runs", "--metadata", str(store)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before the first line is written
    assert process.wait(timeout=120) == exits.EXIT_BROKEN_PIPE
    assert process.stderr.read() == b""


def test_a_command_run_from_another_thread_works(tmp_path):
    """Signal handlers can only be set from the main thread: a caller's worker thread (a
    test's, a scheduler's) still runs commands."""
    import threading

    import cli.main

    result = {}
    thread = threading.Thread(
        target=lambda: result.update(code=cli.main.main(["runs", "--metadata", str(tmp_path)]))
    )
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        thread.start()
        thread.join(timeout=60)
    finally:
        signal.signal(signal.SIGINT, saved)
    assert result == {"code": exits.EXIT_USER_ERROR}  # a folder is not a store: one line


_ENDS_AFTER = """
import atexit, sys, threading, time
import tensorflow  # what a run has loaded
import cli.main
atexit.register(lambda: print("python's own teardown ran", flush=True))
if sys.argv[1] == "with-a-writer":
    def writer():
        time.sleep(1)
        print("the writer's last line", flush=True)
    threading.Thread(target=writer).start()
sys.argv = ["tfxp", "runs", "--metadata", sys.argv[2]]
sys.exit(cli.main.main())
"""


@pytest.mark.parametrize("writer", [False, True], ids=["alone", "with-a-writer"])
def test_a_process_with_tensorflow_ends_at_once_unless_a_thread_still_works(tmp_path, writer):
    """With TensorFlow loaded, the process ends as its command does (Python's module by module
    teardown took 1.7 s after a run): every line out, the command's exit code. A thread that is
    not a daemon and still works is waited for, as Python waits for it."""
    store = tmp_path / "m.sqlite"
    builder = StoreBuilder(store)
    for n in range(300):  # more output than a pipe holds
        builder.step(builder.run(f"run-{n:04d}"), "CsvExampleGen")
    done = subprocess.run(
        [sys.executable, "-c", _ENDS_AFTER, "with-a-writer" if writer else "alone", str(store)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sum("run-" in line for line in done.stdout.splitlines()) == 300
    assert ("the writer's last line" in done.stdout) == writer
    assert ("python's own teardown ran" in done.stdout) == writer
