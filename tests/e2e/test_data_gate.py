"""Bad data stops the run at the gate: non-zero exit, each anomaly named, nothing trained."""

from __future__ import annotations

import pytest

from pipeline.cli import EXIT_GATE
from pipeline.run_report import latest_run
from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.conftest import run_cli


def _unknown_payment_type(index: int, line: str) -> str:
    return line.replace(",Cash,", ",Bitcoin,") if index % 10 == 0 else line


@pytest.mark.parametrize("rows, edit, expected", [
    (1000, _unknown_payment_type, "feature 'payment_type': ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
    (0, None, "TOO_FEW_EXAMPLES: 0 examples, at least 100 required"),
], ids=["unseen-category", "header-only-csv"])
def test_anomalous_data_stops_before_transform(tmp_path, rows, edit, expected):
    data = write_sample(tmp_path / "data", rows, edit)
    config = write_config(small_config_dict(tmp_path, data.parent.parent), tmp_path / "c.yaml")

    code, out, err = run_cli("run", "--config", str(config))

    assert code == EXIT_GATE, out + err
    assert "stopped at the data gate" in err
    assert expected in err
    assert "Anomalies written under" in err
    states = latest_run(tmp_path / "metadata.sqlite", "taxi").node_states
    assert states["ExampleGate"] == "failed"
    assert "Transform" not in states and "Trainer" not in states
    assert not (tmp_path / "serving").exists()


def test_runs_shows_a_run_stopped_at_the_gate(tmp_path):
    data = write_sample(tmp_path / "data", 0)
    config = write_config(small_config_dict(tmp_path, data.parent.parent), tmp_path / "c.yaml")
    assert run_cli("run", "--config", str(config))[0] == EXIT_GATE
    code, out, _ = run_cli("runs", "--metadata", str(tmp_path / "metadata.sqlite"))
    assert code == 0 and "ExampleGate=failed" in out
