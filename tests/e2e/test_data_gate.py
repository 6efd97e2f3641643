"""Bad data stops the run at the gate: non-zero exit, each anomaly named, nothing trained."""

from __future__ import annotations

import pytest

from cli.exits import EXIT_FINDINGS
from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.conftest import last_run, run_cli


def _unknown_payment_type(index: int, line: str) -> str:
    return line.replace(",Cash,", ",Bitcoin,") if index % 10 == 0 else line


@pytest.mark.parametrize(
    "rows, edit, expected",
    [
        (1000, _unknown_payment_type, "feature 'payment_type': ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
        (60, None, "at least 100 required"),
    ],
    ids=["unseen-category", "too-few-rows"],
)
def test_anomalous_data_stops_before_transform(tmp_path, rows, edit, expected):
    data = write_sample(tmp_path / "data", rows, edit)
    config = write_config(small_config_dict(tmp_path, data.parent.parent), tmp_path / "c.yaml")

    code, out, err = run_cli("run", "--config", str(config))

    assert code == EXIT_FINDINGS, out + err
    assert "stopped at the data gate" in err
    assert expected in err
    assert "Report written to" in err
    states = last_run(tmp_path / "metadata.sqlite").nodes
    assert states["ExampleGate"] == "failed"
    assert "Transform" not in states and "Trainer" not in states
    assert not (tmp_path / "serving").exists()


def test_runs_shows_a_run_stopped_at_the_gate(tmp_path):
    data = write_sample(tmp_path / "data", 60)
    config = write_config(small_config_dict(tmp_path, data.parent.parent), tmp_path / "c.yaml")
    assert run_cli("run", "--config", str(config))[0] == EXIT_FINDINGS
    code, out, _ = run_cli("runs", "--metadata", str(tmp_path / "metadata.sqlite"))
    assert code == 0 and "ExampleGate=failed" in out
    assert out.split()[2] == "stopped"  # a gate verdict, not a crash


def _synth_spans(root, spans, drift="", seed=3, rows_per_span=1500):
    from datatools.synth import synthesize

    return synthesize(root, rows=rows_per_span * spans, spans=spans, drift=drift, seed=seed)


def test_a_label_rate_change_between_spans_stops_the_run(tmp_path):
    _synth_spans(tmp_path / "data", 2, drift="tips:0.6@2")
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["data"]["window"] = 2
    config = write_config(raw, tmp_path / "c.yaml")

    code, out, err = run_cli("run", "--config", str(config), "--backfill")

    assert code == EXIT_FINDINGS, out + err
    assert "data gate, span 1:" in out and "verdict: ACCEPTED" in out
    assert "feature 'big_tipper': LABEL_RATE_CHANGE: positive rate" in err
    assert "in span 1: change" in err
    assert not (tmp_path / "serving").exists()


def test_serving_data_that_skews_from_training_stops_the_run(tmp_path):
    _synth_spans(tmp_path / "data", 1)
    (served,) = _synth_spans(tmp_path / "synth-serving", 1, drift="scale:fare*2@1", seed=4)
    serving_dir = tmp_path / "serving-data"
    serving_dir.mkdir()
    columns = served.read_text().splitlines()[0].split(",")
    tips = columns.index("tips")  # absent at serving time (schema: SERVING environment)
    (serving_dir / "requests.csv").write_text(
        "".join(
            ",".join(c for i, c in enumerate(line.split(",")) if i != tips) + "\n"
            for line in served.read_text().splitlines()
        )
    )
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["data"]["serving_root"] = str(serving_dir)
    config = write_config(raw, tmp_path / "c.yaml")

    code, out, err = run_cli("run", "--config", str(config))

    assert code == EXIT_FINDINGS, out + err
    assert "skew (training against serving data):" in err
    assert "feature 'fare': SKEW_COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH" in err
    assert "between training and serving" in err
    states = last_run(tmp_path / "metadata.sqlite").nodes
    assert states["ServingStatisticsGen"] == "complete" and "Transform" not in states


def _span_and_new_file(tmp_path, drift: str, seed: int):
    """A config whose data is one synthetic span, and a new synthetic file with `drift`."""
    _synth_spans(tmp_path / "data", 1)
    (new,) = _synth_spans(tmp_path / "new", 1, drift=drift, seed=seed)
    return new, str(
        write_config(small_config_dict(tmp_path, tmp_path / "data"), tmp_path / "c.yaml")
    )


def test_validate_against_a_span_reports_drift_the_schema_alone_does_not(tmp_path):
    drifted, config = _span_and_new_file(tmp_path, "scale:fare*2@1", seed=5)

    code, out, err = run_cli("validate", str(drifted), "--config", config, "--against", "1")
    assert code == EXIT_FINDINGS, out + err
    assert "column 'fare': COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH" in out

    assert run_cli("validate", str(drifted), "--config", config, "--against", "schema")[0] == 0
    code, _, err = run_cli("validate", str(drifted), "--config", config, "--against", "7")
    assert code == 2 and "span 7 not found (spans here: 1)" in err


def test_validate_checks_the_label_as_the_gate_does(tmp_path):
    tipless, config = _span_and_new_file(tmp_path, "tips:0.6@1", seed=6)

    code, out, err = run_cli("validate", str(tipless), "--config", config, "--against", "1")
    assert code == EXIT_FINDINGS, out + err
    assert "column 'big_tipper': LABEL_RATE_CHANGE: positive rate" in out
    assert "in span 1: change" in out

    lines = tipless.read_text().splitlines()
    tips = lines[0].split(",").index("tips")
    blanked = [lines[0]] + [
        ",".join("" if i == tips and n % 50 == 0 else c for i, c in enumerate(line.split(",")))
        for n, line in enumerate(lines[1:])
    ]
    tipless.write_text("\n".join(blanked) + "\n")
    code, out, _ = run_cli("validate", str(tipless), "--config", config)
    assert code == EXIT_FINDINGS
    assert "column 'big_tipper': LABEL_MISSING: missing in 30 of 1500 rows" in out


def test_a_gate_that_crashes_after_an_accepting_report_is_a_crash_not_a_stop(tmp_path, monkeypatch):
    """A full disk while the gate copies the accepted span's statistics: the run fails with
    the disk's error (exit 1, a traceback), is not reported as a stop, and gives no verdict."""
    from components import example_gate
    from metadata.reader import MetadataReader
    from metadata.store import open_store
    from pipeline.config import load_config
    from pipeline.local_runner import run_once

    data = write_sample(tmp_path / "data", 400)
    config = write_config(small_config_dict(tmp_path, data.parent.parent), tmp_path / "c.yaml")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(example_gate.fileio, "copy", full_disk)
    with pytest.raises(Exception, match="No space left on device"):
        run_once(load_config(config), data_only=True)

    reader = MetadataReader(open_store(sqlite=tmp_path / "metadata.sqlite"))
    crashed = reader.run(reader.run_ids()[0])
    assert crashed.nodes["ExampleGate"] == "failed" and not crashed.gate_stopped
    assert reader.judged_spans("taxi") == set()
