"""Faults an operator meets, injected into real runs (`tfxp run` as a process, TFX, Beam, a real
SQLite store): nothing lost, nothing duplicated, one line and a documented exit code.

One store lives through the story in order (`story`): two runs started at once, a kill between
the push's rename and its record, a deleted served version, the store moved away and emptied,
Ctrl-C during the Trainer, a kill -9 during Transform on an older span, that older span run
again, a broken pipe. A full disk
and a read-only folder get their own small file system (tmpfs, where this machine lets a test
mount one). Each step asserts the exit code, the line, the serving folder, the states in ML
Metadata and, where a model is served, its lineage.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

from components.pusher import CRASH_AFTER_RENAME
from tests.conftest import ROOT, small_config_dict, write_config, write_sample
from tests.e2e.conftest import serving_digest

TFXP = str(pathlib.Path(sys.executable).parent / "tfxp")
ROWS = 1500


def tfxp(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TFXP, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def said(done: subprocess.CompletedProcess) -> list[str]:
    """What tfxp itself said on stderr (library log lines left out)."""
    return [line for line in done.stderr.splitlines() if line.startswith("tfxp:")]


def versions(serving: pathlib.Path) -> list[str]:
    return sorted((p.name for p in serving.iterdir() if p.name.isdigit()), key=int)


def runs_json(config: pathlib.Path) -> list[dict]:
    done = tfxp("runs", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def served_lineage(config: pathlib.Path) -> dict:
    done = tfxp("lineage", "--pushed", "latest", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def interrupt_when(
    args: list[str], appears: pathlib.Path, sig: int, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run tfxp and send `sig` the moment a new entry appears in folder `appears` (a step
    has started writing its output)."""
    before = set(appears.iterdir()) if appears.is_dir() else set()
    process = subprocess.Popen(
        [TFXP, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if appears.is_dir() and set(appears.iterdir()) - before:
            process.send_signal(sig)
            break
        time.sleep(0.05)
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """The store's history, step by step, as a dict of what each step did and left."""
    work = tmp_path_factory.mktemp("faults")
    write_sample(work / "data", ROWS, span=1)
    write_sample(work / "data", ROWS, span=2, skip=ROWS)
    raw = small_config_dict(work, work / "data", train_steps=50)
    config = write_config(raw, work / "c.yaml")
    serving, store = work / "serving", work / "metadata.sqlite"
    steps: dict = {"config": config, "serving": serving, "store": store, "work": work}

    # 1. Two runs at once on a new store: the second is refused while the first holds it.
    first = subprocess.Popen(
        [TFXP, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lock = work / "metadata.sqlite.lock"
    while first.poll() is None and not (lock.exists() and lock.read_text()):
        time.sleep(0.05)
    second = tfxp("run", "--config", str(config))
    out, err = first.communicate(timeout=600)
    steps["concurrent"] = {
        "first": subprocess.CompletedProcess(first.args, first.returncode, out, err),
        "second": second,
        "versions": versions(serving),
        "runs": runs_json(config),
    }

    # 2. Killed between the push's rename and its record (a retrain makes a new model).
    raw["training"]["train_steps"] = 60
    write_config(raw, config)
    killed = tfxp("run", "--config", str(config), env={CRASH_AFTER_RENAME: "1"})
    steps["crash_after_rename"] = {"run": killed, "versions": versions(serving)}
    again = tfxp("run", "--config", str(config))
    steps["after_crash"] = {
        "run": again,
        "versions": versions(serving),
        "runs": runs_json(config),
        "lineage": served_lineage(config),
    }

    # 3. The served version deleted by hand.
    deleted = versions(serving)[-1]
    shutil.rmtree(serving / deleted)
    steps["deleted_version"] = {
        "deleted": deleted,
        "run": tfxp("run", "--config", str(config)),
        "versions": versions(serving),
        "lineage": served_lineage(config),
    }

    # 4. The store moved away, then emptied: refused, nothing touched.
    digest = serving_digest(serving)
    aside = work / "metadata.moved"
    store.rename(aside)
    missing = tfxp("run", "--config", str(config))
    store.write_bytes(b"")
    empty = tfxp("run", "--config", str(config))
    store.unlink()
    aside.rename(store)
    steps["store_gone"] = {
        "missing": missing,
        "empty": empty,
        "serving_untouched": serving_digest(serving) == digest,
    }

    # 5. Ctrl-C during the Trainer (a retrain on span 2).
    raw["training"]["train_steps"] = 70
    write_config(raw, config)
    trainer_out = work / "pipeline_root" / "Trainer" / "model"
    steps["ctrl_c"] = {
        "run": interrupt_when(["run", "--config", str(config)], trainer_out, signal.SIGINT),
        "runs": runs_json(config),
    }
    steps["after_ctrl_c"] = {"run": tfxp("run", "--config", str(config))}

    # 6. kill -9 during Transform, on the older span 1; then that span again, and with
    #    --replace-newer.
    transform_out = work / "pipeline_root" / "Transform" / "transform_graph"
    before = {p.name for p in transform_out.iterdir()}
    killed = interrupt_when(
        ["run", "--config", str(config), "--span", "1"], transform_out, signal.SIGKILL
    )
    steps["kill_in_transform"] = {
        "run": killed,
        "partial": sorted({p.name for p in transform_out.iterdir()} - before),
        "check": tfxp("store", "check", "--config", str(config)),
    }
    digest = serving_digest(serving)
    older = tfxp("run", "--config", str(config), "--span", "1")
    steps["older_span"] = {
        "run": older,
        "serving_untouched": serving_digest(serving) == digest,
        "transform_out": sorted(p.name for p in transform_out.iterdir()),
        "runs": runs_json(config),
        "versions": versions(serving),
    }
    replaced = tfxp("run", "--config", str(config), "--span", "1", "--replace-newer")
    steps["replace_newer"] = {
        "run": replaced,
        "versions": versions(serving),
        "runs": runs_json(config),
    }

    # 7. A span with a ragged row: refused before anything runs.
    def drop_two_fields(i: int, line: str) -> str:
        return ",".join(line.split(",")[:-2]) + "\n" if i == 9 else line

    write_sample(work / "data", ROWS, drop_two_fields, span=3, skip=2 * ROWS)
    digest, listed = serving_digest(serving), len(runs_json(config))
    steps["ragged_span"] = {
        "run": tfxp("run", "--config", str(config)),
        "serving_untouched": serving_digest(serving) == digest,
        "new_runs": len(runs_json(config)) - listed,
    }
    shutil.rmtree(work / "data" / "span-3")

    # 8. A reader that stops reading: `true` has exited before tfxp writes a line.
    steps["broken_pipe"] = subprocess.run(
        f"{TFXP} runs --config {config} | true; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    return steps


def test_a_second_run_on_the_same_store_is_refused_and_one_version_is_pushed(story):
    first, second = story["concurrent"]["first"], story["concurrent"]["second"]
    assert first.returncode == 0, first.stderr[-2000:]
    assert second.returncode == 2
    assert said(second) == [said(second)[0]] and "another run is using this store" in second.stderr
    assert "Traceback" not in second.stderr
    assert len(story["concurrent"]["versions"]) == 1
    assert len(story["concurrent"]["runs"]) == 1


def test_a_crash_between_rename_and_record_is_quarantined_and_pushed_again_with_lineage(story):
    crashed = story["crash_after_rename"]
    assert crashed["run"].returncode == -signal.SIGKILL
    assert len(crashed["versions"]) == 2  # the new version is in place, unrecorded
    unrecorded = crashed["versions"][-1]
    after = story["after_crash"]
    assert after["run"].returncode == 0, after["run"].stderr[-2000:]
    lines = said(after["run"])
    assert any("closed abandoned execution BlessedPusher" in line for line in lines)
    assert any(f"moved unrecorded served version {unrecorded} to .quarantine/" in x for x in lines)
    assert (story["serving"] / ".quarantine" / unrecorded / "saved_model.pb").exists()
    assert len(after["versions"]) == 2 and unrecorded not in after["versions"]
    killed_run = after["runs"][1]
    assert killed_run["nodes"]["BlessedPusher"] == "abandoned"
    served = after["lineage"]
    assert served["artifact"]["properties"]["pushed_version"] == int(after["versions"][-1])
    assert served["run"]["run"] == after["runs"][0]["run"]


def test_a_deleted_served_version_is_pushed_again(story):
    step = story["deleted_version"]
    assert step["run"].returncode == 0, step["run"].stderr[-2000:]
    assert "BLESSED and pushed" in step["run"].stdout
    assert step["deleted"] not in step["versions"] and len(step["versions"]) == 2
    assert step["lineage"]["artifact"]["properties"]["pushed_version"] == int(step["versions"][-1])


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_store_gone_beside_its_artifacts_is_refused_in_one_line(story, state):
    done = story["store_gone"][state]
    assert done.returncode == 2
    assert said(done) == [said(done)[0]]
    assert f"the ML Metadata store is {state}" in said(done)[0]
    assert "Traceback" not in done.stderr
    assert story["store_gone"]["serving_untouched"]


def test_kill_9_during_transform_leaves_it_running_for_store_check(story):
    step = story["kill_in_transform"]
    assert step["run"].returncode == -signal.SIGKILL
    assert step["partial"], "the kill came after Transform made its output folder"
    assert step["check"].returncode == 3
    assert "LEFT_RUNNING: Transform" in step["check"].stdout


def test_the_next_run_closes_the_dead_transform_and_removes_its_partial_output(story):
    step = story["older_span"]
    assert step["run"].returncode == 0, step["run"].stderr[-2000:]
    [killed] = story["kill_in_transform"]["partial"]  # the dead execution's output folder
    assert any("closed abandoned execution Transform" in line for line in said(step["run"]))
    assert any(f"transform_graph/{killed}" in line for line in said(step["run"]))
    assert killed not in step["transform_out"]
    assert step["runs"][1]["nodes"]["Transform"] == "abandoned"


def test_a_model_of_an_older_span_is_not_pushed_over_a_newer_one_unless_asked(story):
    older = story["older_span"]
    assert "BLESSED but not pushed: trained on span 1, older than span 2" in older["run"].stdout
    assert older["serving_untouched"]
    assert older["runs"][0]["older_than_served_span"] == 2
    replaced = story["replace_newer"]
    assert replaced["run"].returncode == 0, replaced["run"].stderr[-2000:]
    assert "BLESSED and pushed" in replaced["run"].stdout
    assert replaced["runs"][0]["provenance"]["replace_newer"] is True
    assert len(replaced["versions"]) == len(older["versions"]) + 1


def test_ctrl_c_ends_with_one_line_and_130_and_the_next_run_closes_what_it_left(story):
    done = story["ctrl_c"]["run"]
    assert done.returncode == 130
    assert said(done)[-1] == "tfxp: interrupted; the next run closes what this one left"
    assert "Traceback" not in done.stderr
    # Interrupted in Python code the Trainer stays "running"; inside TensorFlow's C++ code the
    # interruption can surface as another error, which TFX records as a failed execution; one
    # a library swallows lets the Trainer finish, and the run stops as the Trainer ends (CI
    # once saw such a run go on to push and exit 0).
    left = story["ctrl_c"]["runs"][0]["nodes"]["Trainer"]
    assert left in ("running", "failed", "complete")
    assert "Evaluator" not in story["ctrl_c"]["run"].stdout
    after = story["after_ctrl_c"]["run"]
    assert after.returncode == 0, after.stderr[-2000:]
    closed = any("closed abandoned execution Trainer" in line for line in said(after))
    assert closed == (left == "running")


def test_a_malformed_span_is_refused_with_file_and_line_before_anything_runs(story):
    step = story["ragged_span"]
    done = step["run"]
    assert done.returncode == 3, done.stderr[-2000:]
    assert "span-3/data.csv: column '<file>': RAGGED_ROW: line 11: " in done.stdout
    assert "span 3: 1 problem(s) in its files; nothing ran" in said(done)[-1]
    assert step["new_runs"] == 0 and step["serving_untouched"]


def test_a_reader_that_stops_reading_ends_the_command_quietly(story):
    done = story["broken_pipe"]
    assert done.returncode == 141, done.stderr  # 128 + SIGPIPE, as git does
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


# A full disk and a read-only folder ---------------------------------------------------------


@contextlib.contextmanager
def small_file_system(path: pathlib.Path, size: str):
    """A tmpfs of `size` at `path`; skips the test where this machine does not allow it (a
    container without CAP_SYS_ADMIN)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_and_a_read_only_folder_are_one_line_and_exit_2(tmp_path):
    data = tmp_path / "data"
    write_sample(data, ROWS, span=1)
    with small_file_system(tmp_path / "outputs", "1m") as outputs:
        config = write_config(small_config_dict(outputs, data, train_steps=20), tmp_path / "c.yaml")
        full = tfxp("run", "--config", str(config))
        assert full.returncode == 2, full.stderr[-2000:]
        assert said(full)[-1].endswith("no space left on the device; free some and run again")
        assert str(outputs) in said(full)[-1]
        assert not (outputs / "serving").exists()

        subprocess.run(["mount", "-o", "remount,ro", str(outputs)], check=True)
        read_only = tfxp("run", "--config", str(config))
        assert read_only.returncode == 2
        assert said(read_only) == [said(read_only)[0]]
        assert "read-only file system" in said(read_only)[0]
        assert "Traceback" not in read_only.stderr
        listed = tfxp("runs", "--config", str(config))
        # The step the disk filled under: failed, or left running when the disk filled as
        # the store recorded its end (SQLite rolled that write back).
        assert listed.returncode == 0
        assert "=failed" in listed.stdout or "=running" in listed.stdout
