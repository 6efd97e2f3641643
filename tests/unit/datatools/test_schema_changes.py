"""`tfxp schema infer` lists what a candidate changes feature by feature (type, domain values,
presence, comparators, thresholds), not text lines: a real change is not buried under the
curated file's comments and layout."""

from __future__ import annotations

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from datatools.schema_infer import schema_changes

CURATED = """
# hand-written comments and layout do not count
feature { name: "fare" type: FLOAT
  drift_comparator { jensen_shannon_divergence { threshold: 0.2 } }
  skew_comparator { jensen_shannon_divergence { threshold: 0.2 } } }
feature { name: "payment_type" type: BYTES domain: "payment_type"
  presence { min_fraction: 1.0 } }
feature { name: "gone" type: INT }
string_domain { name: "payment_type" value: "Cash" value: "Credit Card" value: "Prcard" }
"""
CANDIDATE = """
feature { name: "fare" type: FLOAT
  drift_comparator { jensen_shannon_divergence { threshold: 0.15 } }
  skew_comparator { jensen_shannon_divergence { threshold: 0.15 } } }
feature { name: "payment_type" type: BYTES domain: "payment_type"
  presence { min_fraction: 0.9 }
  drift_comparator { infinity_norm { threshold: 0.1 } } }
feature { name: "tolls" type: FLOAT }
string_domain { name: "payment_type" value: "Cash" value: "Credit Card" value: "Bitcoin" }
"""


def _schema(text: str) -> schema_pb2.Schema:
    return text_format.Parse(text, schema_pb2.Schema())


def test_each_change_is_one_line_naming_the_feature_and_what_moved():
    assert schema_changes(_schema(CURATED), _schema(CANDIDATE)) == [
        "~ fare: drift and skew Jensen-Shannon 0.2 -> Jensen-Shannon 0.15",
        "- gone: in the curated schema, not in the data",
        "~ payment_type: domain +1: Bitcoin",
        "~ payment_type: domain -1: Prcard",
        "~ payment_type: presence 1 -> 0.9",
        "~ payment_type: drift no comparator -> L-infinity 0.1",
        "+ tolls: new, FLOAT, no comparator",
    ]


def test_the_same_schema_written_differently_has_no_changes():
    reordered = _schema(CURATED)
    reordered.feature[0].ClearField("skew_comparator")
    reordered.feature[0].skew_comparator.jensen_shannon_divergence.threshold = 0.2
    assert schema_changes(_schema(CURATED), reordered) == []
