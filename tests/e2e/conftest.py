"""The store every lineage and run test reads: five real runs of the pipeline, made once."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib

import pytest

from cli.main import main
from components.fingerprint import tree_fingerprint
from metadata.reader import MetadataReader, RunView
from metadata.store import open_store
from tests.conftest import small_config_dict, write_config, write_sample

ROWS = 3000


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def last_run(metadata: pathlib.Path) -> RunView:
    """What the newest run in the store did: tests run one pipeline at a time, so the newest
    run is the one the test just made."""
    reader = MetadataReader(open_store(sqlite=metadata))
    return reader.run(reader.run_ids()[0])


def serving_digest(serving: pathlib.Path) -> str | None:
    """The served versions' folders and content, to tell that a run left them untouched (an
    empty or half-written folder counts)."""
    if not serving.exists():
        return None
    folders = sorted(str(p.relative_to(serving)) for p in serving.rglob("*") if p.is_dir())
    return f"{folders}:{tree_fingerprint(str(serving))}"


def edit_in_place_keeping_size_and_mtime(path: pathlib.Path) -> None:
    """Change one fare digit: same byte count, same mtime, different content."""
    stat = os.stat(path)
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines[1:], start=1):
        fields = line.split(",")
        fare = fields[1]
        if fare and fare[0] in "123456789" and fare[0] != "9":
            fields[1] = str(int(fare[0]) + 1) + fare[1:]
            lines[i] = ",".join(fields)
            break
    path.write_text("".join(lines))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    data = write_sample(work / "data", ROWS)
    raw = small_config_dict(work, data.parent.parent)
    config_path = write_config(raw, work / "small.yaml")
    metadata = work / "metadata.sqlite"
    serving = work / "serving"
    results = {}

    def record(name, args):
        code, out, err = run_cli("run", "--config", str(args))
        results[name] = dict(
            code=code,
            out=out,
            err=err,
            summary=last_run(metadata),
            versions=sorted(p.name for p in serving.iterdir()) if serving.exists() else [],
            serving_digest=serving_digest(serving),
        )

    record("fresh", config_path)
    record("unchanged", config_path)
    record("unchanged_again", config_path)
    edit_in_place_keeping_size_and_mtime(data)
    record("data_edited", config_path)
    strict = dict(
        raw, evaluation=dict(raw["evaluation"], thresholds={"auc": {"lower_bound": 0.9999}})
    )
    record("strict", write_config(strict, work / "strict.yaml"))
    results["config"] = raw
    results["data"] = data
    results["metadata"] = metadata
    return results
