"""Shared fixtures: the taxi config as data, and small copies of the bundled dataset."""

from __future__ import annotations

import copy
import os
import pathlib
import signal

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parent.parent
TAXI_CONFIG = ROOT / "pipeline" / "configs" / "taxi.yaml"
TAXI_ROOT = ROOT / "data" / "taxi"


def taxi_lines() -> list[str]:
    """The bundled trips as CSV lines, header first, spans in order (2013 first)."""
    lines: list[str] = []
    for path in sorted(TAXI_ROOT.glob("span-*/data.csv"), key=lambda p: int(p.parent.name[5:])):
        body = path.read_text().splitlines(keepends=True)
        lines += body if not lines else body[1:]
    return lines


@pytest.fixture
def taxi_raw() -> dict:
    """The bundled taxi config as a plain mapping, to be altered by a test."""
    return copy.deepcopy(yaml.safe_load(TAXI_CONFIG.read_text()))


def write_sample(
    root: pathlib.Path, rows: int, edit=None, span: int = 1, skip: int = 0
) -> pathlib.Path:
    """`<root>/span-<span>/data.csv`: `rows` bundled trips after the first `skip`, header kept,
    optionally edited line by line. Returns the CSV file."""
    directory = root / f"span-{span}"
    directory.mkdir(parents=True, exist_ok=True)
    header, *body = taxi_lines()
    lines = [header] + body[skip : skip + rows]
    if edit:
        lines = [lines[0]] + [edit(i, line) for i, line in enumerate(lines[1:])]
    path = directory / "data.csv"
    path.write_text("".join(lines))
    return path


def small_config_dict(workdir: pathlib.Path, data_dir: pathlib.Path, **training) -> dict:
    """The taxi config pointed at `workdir`, with few training steps for fast real runs."""
    raw = yaml.safe_load(TAXI_CONFIG.read_text())
    raw["data"]["root"] = str(data_dir)
    raw["schema"] = str(ROOT / raw["schema"])
    raw["outputs"] = {
        "pipeline_root": str(workdir / "pipeline_root"),
        "metadata": str(workdir / "metadata.sqlite"),
        "serving_dir": str(workdir / "serving"),
    }
    raw["training"].update({"train_steps": 150, "eval_steps": 10, **training})
    raw["evaluation"]["thresholds"] = {"auc": {"lower_bound": 0.7, "max_drop": 0.05}}
    return raw


def write_config(raw: dict, path: pathlib.Path) -> pathlib.Path:
    path.write_text(yaml.safe_dump(raw))
    return path


# Files whose fixtures run the pipeline many times: started first when the suite runs on
# several workers, so none of them is left to run alone at the end.
LONGEST_FIRST = ("test_kubeflow_entrypoints.py", "test_faults.py", "test_spans.py")


def pytest_configure(config):
    """A suite started in the background of a shell without job control (`make test &`, some
    CI runners) ignores Ctrl-C, and so would every `tfxp` the tests start: the tests of Ctrl-C
    need it delivered, as it is to a user's terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_itemcollected(item):
    """Every end-to-end test is slow: `make test-fast` (`-m "not slow"`) runs the rest.

    Each test is grouped with those that share its fixtures (its file, or every file using a
    session-wide fixture), so `pytest -n` (`--dist loadgroup`) builds each fixture once. Marked
    as each test is collected: xdist reads the groups into the test ids right after.
    """
    if "e2e" in item.path.parts:
        item.add_marker(pytest.mark.slow)
    item.add_marker(pytest.mark.xdist_group(_fixture_group(item)))


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in LONGEST_FIRST)


def _fixture_group(item) -> str:
    for name, definitions in item._fixtureinfo.name2fixturedefs.items():
        if definitions[-1].scope == "session" and definitions[-1].baseid:
            return f"session-{name}"
    return item.nodeid.split("::")[0]


def a_run_view(**facts):
    """A run as the metadata reader returns it: nothing ran, nothing pushed, but `facts`."""
    from metadata.reader import RunView

    blank = dict(
        run="2026-11-29T10:00:00.000001",
        pipeline="taxi",
        started="",
        seconds=0.0,
        nodes={},
        node_seconds={},
        provenance={},
    )
    return RunView(**{**blank, **facts})
