"""One run at a time per store.

Two runs on one SQLite store would both push the same model and interleave their records. The
lock is an advisory `flock` on `<store>.lock`, taken before anything is written and released
by the kernel when the process ends however it ends (kill -9 included), so a dead run never
leaves a stale lock. It holds for processes on one machine; a store on a network file system
shared by several machines needs MySQL (`--mysql`) and one scheduler.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import pathlib
import time
from collections.abc import Iterator


class StoreBusy(RuntimeError):
    """Another run holds the store; one line."""


def lock_path(metadata_path: pathlib.Path) -> pathlib.Path:
    return metadata_path.with_name(metadata_path.name + ".lock")


_BRIEF_HOLDERS = "tfxp store"  # `store check` and `store backup` hold the lock for seconds
_WAIT_FOR_BRIEF = 60.0  # seconds a run waits for them before it is refused


@contextlib.contextmanager
def run_lock(metadata_path: pathlib.Path, holder: str = "tfxp run") -> Iterator[None]:
    """Hold the store's lock for the block; refuse at once if another run holds it (a brief
    holder, `tfxp store check` or `backup`, is waited for). `holder` is what a refused
    process is told holds it."""
    path = lock_path(metadata_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + _WAIT_FOR_BRIEF
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                held_by = handle.read().strip() or "a process"
                if held_by.startswith(_BRIEF_HOLDERS) and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise StoreBusy(
                    f"{metadata_path}: another run is using this store ({held_by}); "
                    "wait for it to end, then run again"
                ) from None
        started = datetime.datetime.now().isoformat(timespec="seconds")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder}, pid {os.getpid()}, started {started}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
