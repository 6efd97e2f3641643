"""The gate's verdicts kept on storage for Kubeflow: the latest verdict on a span wins."""

from __future__ import annotations

import json

import pytest

from components import span_records
from components.artifact_types import AcceptedSpan
from metadata import names


def _accepted(tmp_path, span: int, rate: float) -> AcceptedSpan:
    accepted = AcceptedSpan()
    accepted.uri = str(tmp_path / f"accepted-{span}")
    accepted.set_int_custom_property(names.SPAN, span)
    accepted.set_float_custom_property(names.LABEL_POSITIVE_RATE, rate)
    return accepted


class _Examples:
    def __init__(self, uri: str):
        self.uri, self.split_names = uri, json.dumps(["train", "eval"])


def test_the_previous_accepted_span_is_the_newest_below(tmp_path):
    records = str(tmp_path / "records")
    for span, rate in ((1, 0.1), (2, 0.2), (4, 0.4)):
        span_records.write_accepted(
            records, _accepted(tmp_path, span, rate), _Examples(f"ex-{span}")
        )
    previous = span_records.previous_accepted(records, 4)
    assert previous.get_int_custom_property(names.SPAN) == 2
    assert previous.uri == str(tmp_path / "accepted-2")
    assert previous.get_float_custom_property(names.LABEL_POSITIVE_RATE) == 0.2
    assert span_records.previous_accepted(records, 1) is None
    assert sorted(span_records.accepted_spans(records)) == [1, 2, 4]


def test_a_stopped_span_is_forgotten(tmp_path):
    records = str(tmp_path / "records")
    span_records.write_accepted(records, _accepted(tmp_path, 1, 0.1), _Examples("ex-1"))
    span_records.write_accepted(records, _accepted(tmp_path, 2, 0.2), _Examples("ex-2"))
    span_records.forget(records, 2)
    span_records.forget(records, 9)  # never accepted: nothing to do
    assert span_records.previous_accepted(records, 3).get_int_custom_property(names.SPAN) == 1


def test_no_records_yet_means_no_baseline(tmp_path):
    assert span_records.previous_accepted(str(tmp_path / "none"), 5) is None


def test_kubeflow_finds_our_artifact_type_by_its_type_name():
    """The container entrypoint imports `tfxp.AcceptedSpan` by its type name."""
    from tfx.utils import import_utils

    assert import_utils.import_class_by_path(names.ACCEPTED_SPAN) is AcceptedSpan


def _records(*spans, splits=("train", "eval")):
    return {s: {"examples_uri": f"ex-{s}", "split_names": json.dumps(list(splits))} for s in spans}


@pytest.mark.parametrize(
    "records, span, num_spans, expected",
    [
        (_records(1, 2, 3), 4, 3, [2, 3]),  # the newest two before 4, oldest first
        (_records(1, 2, 3), 4, 1, []),  # a window of one is the span alone
        (_records(1), 4, 5, [1]),  # fewer accepted spans than the window
        (_records(1, 2, 5), 4, 3, [1, 2]),  # a later span is not in an earlier span's window
        ({**_records(1), **_records(2, splits=("train",))}, 4, 3, [1]),  # a split missing
        ({}, 1, 3, []),
    ],
)
def test_the_window_is_the_newest_accepted_spans_before_this_one(
    records, span, num_spans, expected
):
    chosen = span_records.window_of(records, span, ["train", "eval"], num_spans)
    assert [s for s, _ in chosen] == expected
    assert [uri for _, uri in chosen] == [f"ex-{s}" for s in expected]
