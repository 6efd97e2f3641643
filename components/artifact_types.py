"""This project's own artifact types. ML Metadata and Kubeflow know them by type name
(`tfxp.<Class>`, importable through the top-level `tfxp` module)."""

from tfx import types

from metadata import names


class AcceptedSpan(types.Artifact):
    """A span the gate let through: its statistics, label rate and report (report.json)."""

    TYPE_NAME = names.ACCEPTED_SPAN
    # Facts are custom properties (span, split_names, label_positive_rate, allowed): Kubeflow V2
    # compiles custom artifact types only without declared PROPERTIES.
