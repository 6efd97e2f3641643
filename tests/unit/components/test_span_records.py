"""The gate's verdicts kept on storage for Kubeflow: the latest verdict on a span wins."""

from __future__ import annotations

import json

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
