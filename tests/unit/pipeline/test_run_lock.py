"""One run at a time per store: a second process is refused at once, with who holds the store;
the lock goes with the process that held it, however that process ends."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from pipeline.run_lock import StoreBusy, lock_path, run_lock

_HOLDER = textwrap.dedent(
    """
    import pathlib, sys, time
    from pipeline.run_lock import run_lock
    with run_lock(pathlib.Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(60)
    """
)


def _hold_in_another_process(store):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store)], stdout=subprocess.PIPE, text=True
    )
    ready, _, _ = select.select([holder.stdout], [], [], 120)
    assert ready and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_is_refused_naming_the_holder(tmp_path):
    store = tmp_path / "metadata.sqlite"
    holder = _hold_in_another_process(store)
    try:
        with pytest.raises(StoreBusy) as refused, run_lock(store):
            pass
        assert f"pid {holder.pid}" in str(refused.value)
        assert "wait for it to end" in str(refused.value)
        assert "\n" not in str(refused.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    store = tmp_path / "metadata.sqlite"
    holder = _hold_in_another_process(store)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with run_lock(store):
        assert lock_path(store).read_text().startswith(f"tfxp run, pid {os.getpid()}")


def test_the_lock_is_released_after_the_block_and_after_an_error(tmp_path):
    store = tmp_path / "metadata.sqlite"
    with pytest.raises(ValueError), run_lock(store):
        raise ValueError("a failed run")
    with run_lock(store):
        assert lock_path(store).read_text().startswith("tfxp run, pid")
    assert lock_path(store).read_text() == ""  # released: nobody named as holder
