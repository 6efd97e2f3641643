"""The CLI turns user mistakes into one line and exit code 2, without a traceback."""

from __future__ import annotations

import pytest

from cli.exits import EXIT_FINDINGS, EXIT_USER_ERROR
from cli.main import main
from components.validation import GateReport
from pipeline.outcome import Result, RunOutcome
from tests.conftest import a_run_view, small_config_dict, write_config, write_sample


def test_missing_config_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "nope.yaml")]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.strip() == f"tfxp: {tmp_path / 'nope.yaml'}: config file not found"


def test_the_default_config_missing_from_another_folder_says_what_to_give(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["models"]) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        f"tfxp: pipeline/configs/taxi.yaml: config file not found under {tmp_path}"
    )
    assert "give --config" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "command, needs",
    [
        (["models"], "the serving folder"),
        (["report"], "the folder the pages go in"),
        (["store", "check"], "the serving folder"),
    ],
)
def test_a_command_that_needs_the_config_refuses_metadata_alone_in_one_line(
    tmp_path, capsys, command, needs
):
    assert main([*command, "--metadata", str(tmp_path / "m.sqlite")]) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert f"--metadata is not taken by this command: it needs {needs}" in err
    assert "give --config" in err and len(err.splitlines()) == 1


def test_invalid_key_is_reported_with_file_and_key(tmp_path, capsys):
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["training"]["train_steps"] = "many"
    path = write_config(raw, tmp_path / "bad.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    assert "'training.train_steps' must be int, got 'many'" in capsys.readouterr().err


def test_missing_data_folder_is_reported_before_anything_runs(tmp_path, capsys):
    path = write_config(small_config_dict(tmp_path, tmp_path / "absent"), tmp_path / "c.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    assert "data folder not found" in capsys.readouterr().err
    assert not (tmp_path / "metadata.sqlite").exists()


@pytest.mark.parametrize(
    "layout, message",
    [
        (
            lambda root: root.mkdir(),
            "no span folder (span-1/, span-2/, ... each holding CSV files)",
        ),
        (
            lambda root: (root.mkdir(), (root / "trips.csv").write_text("a\n1\n")),
            "move trips.csv into",
        ),
        (lambda root: (root / "span-1").mkdir(parents=True), "no *.csv file in the data folder"),
    ],
    ids=["empty-folder", "csv-outside-a-span-folder", "empty-span-folder"],
)
def test_a_bad_data_folder_is_one_line_before_anything_runs(tmp_path, capsys, layout, message):
    layout(tmp_path / "data")
    path = write_config(small_config_dict(tmp_path, tmp_path / "data"), tmp_path / "c.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "metadata.sqlite").exists()


def test_missing_curated_schema_says_how_to_make_one(tmp_path, capsys):
    raw = small_config_dict(tmp_path, tmp_path)
    (tmp_path / "span-1").mkdir()
    (tmp_path / "span-1" / "d.csv").write_text("a\n1\n")
    raw["schema"] = str(tmp_path / "schema.pbtxt")
    path = write_config(raw, tmp_path / "c.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    assert "tfxp schema infer" in capsys.readouterr().err


@pytest.mark.parametrize("against", ["0", "²", "latest", "-1"])
def test_validate_against_takes_a_span_number_or_schema(tmp_path, capsys, against):
    file = tmp_path / "f.csv"
    file.write_text("a\n1\n")
    assert main(["validate", str(file), "--against", against]) == EXIT_USER_ERROR
    assert "--against must be 'schema' or a span number" in capsys.readouterr().err


@pytest.fixture
def four_spans(tmp_path):
    for span in (1, 2, 3, 4):
        write_sample(tmp_path / "data", 5, span=span, skip=5 * span)
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["data"]["window"] = 3
    return write_config(raw, tmp_path / "c.yaml")


def _outcome(config, data_only: bool, result: Result) -> RunOutcome:
    run = a_run_view(gate_stopped=result is Result.STOPPED_AT_GATE, gate_report_path="report")
    report = GateReport(
        span=config.span,
        previous_span=None,
        label="big_tipper",
        label_counts={},
        previous_label_rate=None,
        measurements=[],
        findings=[],
        allow=[],
    )
    return RunOutcome(result, config.span, data_only, run, report, {}, (), (), None, "s", "m", "p")


def _backfill(config, *extra: str) -> int:
    return main(["run", "--config", str(config), "--backfill", *extra])


def _record_runs(monkeypatch, stopped=(), judged=()):
    """Replace running a span by a record of what would run; the choice of spans is real."""
    from pipeline import local_runner

    calls = []

    def run_once(config, data_only, replace_newer=False):
        calls.append((config.span, data_only, config.validation.allow))
        result = (
            Result.STOPPED_AT_GATE
            if config.span in stopped
            else Result.CHECKED_IN
            if data_only
            else Result.NOT_BLESSED
        )
        return _outcome(config, data_only, result)

    monkeypatch.setattr(local_runner, "run_once", run_once)
    monkeypatch.setattr(local_runner, "judged_spans", lambda config: set(judged))
    return calls


def test_backfill_checks_the_unjudged_earlier_spans_of_the_window_without_the_cli_allow(
    four_spans, monkeypatch
):
    calls = _record_runs(monkeypatch)
    assert _backfill(four_spans, "--allow", "LABEL_MISSING:big_tipper") == 0
    assert calls == [(2, True, ()), (3, True, ()), (4, False, ("LABEL_MISSING:big_tipper",))]


def test_backfill_goes_on_past_a_stopped_span_and_skips_judged_ones(
    four_spans, monkeypatch, capsys
):
    calls = _record_runs(monkeypatch, stopped={3}, judged={2})
    assert _backfill(four_spans) == 0
    assert [(span, data_only) for span, data_only, _ in calls] == [(3, True), (4, False)]
    assert "span 3 stays out of the training window" in capsys.readouterr().err


def test_a_misspelt_allow_column_is_refused_before_any_span_runs(four_spans, monkeypatch, capsys):
    calls = _record_runs(monkeypatch)
    assert _backfill(four_spans, "--allow", "COMPARATOR_L_INFTY_HIGH:compnay") == EXIT_USER_ERROR
    assert calls == [] and "declares no column 'compnay'" in capsys.readouterr().err


def test_every_outcome_has_an_exit_code_and_only_a_stop_is_not_zero():
    from cli.exits import EXIT_FINDINGS, RUN_EXIT_CODES

    assert set(RUN_EXIT_CODES) == set(Result)
    assert {r for r, code in RUN_EXIT_CODES.items() if code} == {Result.STOPPED_AT_GATE}
    assert RUN_EXIT_CODES[Result.STOPPED_AT_GATE] == EXIT_FINDINGS


def _break_line_3(kind: str):
    def edit(i: int, line: str) -> str:
        if i != 1:  # the second row: line 3 of the file
            return line
        fields = line.split(",")
        if kind == "ragged-row":
            return ",".join(fields[:-2]) + "\n"
        if kind == "unbalanced-quote":
            return '"' + line
        if kind == "inf-fare":
            return ",".join([fields[0], "inf", *fields[2:]])
        return line

    return edit


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("ragged-row", "RAGGED_ROW: line 3:"),
        ("unbalanced-quote", "UNBALANCED_QUOTES: line 3: a quoted field is never closed"),
        ("inf-fare", "column 'fare': NAN_OR_INF: line 3: 'inf' is not a finite number"),
        ("not-utf8", "NOT_UTF8: line 3: byte 0xff is not UTF-8"),
        ("header-only", "NO_ROWS: a header but no rows"),
    ],
)
def test_a_malformed_span_is_refused_with_file_and_line_and_nothing_runs(
    four_spans, monkeypatch, capsys, kind, expected
):
    calls = _record_runs(monkeypatch)
    span_4 = four_spans.parent / "data" / "span-4"
    if kind == "header-only":
        write_sample(four_spans.parent / "data", 0, span=4)
    else:
        write_sample(four_spans.parent / "data", 5, _break_line_3(kind), span=4)
    if kind == "not-utf8":
        data = (span_4 / "data.csv").read_bytes().split(b"\n")
        data[2] = b"\xff" + data[2]
        (span_4 / "data.csv").write_bytes(b"\n".join(data))

    assert main(["run", "--config", str(four_spans)]) == EXIT_FINDINGS

    out, err = capsys.readouterr()
    assert f"{span_4 / 'data.csv'}: column" in out and expected in out
    assert "span 4:" in err and "nothing ran" in err and "Traceback" not in err
    assert calls == []


def test_a_malformed_backfill_span_stays_out_and_the_run_goes_on(four_spans, monkeypatch, capsys):
    calls = _record_runs(monkeypatch)
    write_sample(four_spans.parent / "data", 5, _break_line_3("ragged-row"), span=3)
    assert _backfill(four_spans) == 0
    assert [(span, data_only) for span, data_only, _ in calls] == [(2, True), (4, False)]
    err = capsys.readouterr().err
    assert "span 3: 1 problem(s) in its files; it stays out of the training window" in err


def test_every_argument_of_every_command_says_what_it_is_for():
    import argparse

    from cli.main import parser

    silent = []

    def walk(command, prefix):
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}".strip())
            elif action.help is None and action.dest != "help":
                silent.append(f"{prefix}: {action.option_strings or action.dest}")

    walk(parser(), "tfxp")
    assert silent == []


def test_version_is_printed_and_exits_0(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("tfxp ")
