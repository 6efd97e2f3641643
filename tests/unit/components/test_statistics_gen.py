"""StatisticsGen without Beam writes what TFX's own StatisticsGen writes: run side by side on
the same examples of a bundled span, with the curated schema, TFX's executor (its Beam
pipeline) and ours give the same statistics (values tied in frequency aside, which the two
list in different orders); a runner that spreads work still gets Beam."""

from __future__ import annotations

import pathlib

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import executor as tfx_statistics
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components import csv_examples, statistics_gen

TOP_VALUES = 20  # TFDV's default count of top values listed
BEAM = ["--runner=FnApiRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> standard_artifacts.Examples:
    """Span 4 of the bundled data (2,000 rows of it, and an unbalanced split), as ExampleGen
    writes it."""
    root = tmp_path_factory.mktemp("examples")
    data = root / "data.csv"
    lines = pathlib.Path("data/taxi/span-4/data.csv").read_text().splitlines(keepends=True)
    data.write_text("".join(lines[:2001]))
    csv_examples.write_splits(
        [str(data)], [str(root / "Split-train"), str(root / "Split-eval")], ("",), [3, 4]
    )
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = artifact_utils.encode_split_names(["train", "eval"])
    artifact.span = 4
    return artifact


def _statistics(
    executor, examples, out: pathlib.Path
) -> dict[str, statistics_pb2.DatasetFeatureStatisticsList]:
    schema = standard_artifacts.Schema()
    schema.uri = str(out / "schema")
    (out / "schema").mkdir(parents=True)
    (out / "schema" / "schema.pbtxt").write_text(
        pathlib.Path("schema/taxi/schema.pbtxt").read_text()
    )
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(out / "statistics")
    executor.Do(
        {
            standard_component_specs.EXAMPLES_KEY: [examples],
            standard_component_specs.SCHEMA_KEY: [schema],
        },
        {standard_component_specs.STATISTICS_KEY: [statistics]},
        {standard_component_specs.EXCLUDE_SPLITS_KEY: json_utils.dumps([])},
    )
    assert statistics.span == 4
    result = {}
    for split in artifact_utils.decode_split_names(statistics.split_names):
        path = pathlib.Path(artifact_utils.get_split_uri([statistics], split)) / "FeatureStats.pb"
        result[split] = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
    return result


def _by_feature(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> dict:
    (dataset,) = statistics.datasets
    return {feature.path.step[0]: _ties_in_value_order(feature) for feature in dataset.features}


def _ties_in_value_order(feature: statistics_pb2.FeatureNameStatistics):
    """The feature's statistics with values of equal frequency listed by value: the two ways
    rank ties in different orders, which nothing downstream reads (drift and domain checks
    compare values by name), and so may list different values of the last tied frequency in a
    full top-20."""
    if not feature.HasField("string_stats"):
        return feature
    feature = statistics_pb2.FeatureNameStatistics.FromString(feature.SerializeToString())
    stats = feature.string_stats
    top = sorted(stats.top_values, key=lambda v: (-v.frequency, v.value))
    if len(top) == TOP_VALUES:  # which of the values tied last make the cut is a tie too
        top = [v for v in top if v.frequency > top[-1].frequency]
    del stats.top_values[:]
    stats.top_values.extend(top)
    buckets = sorted(stats.rank_histogram.buckets, key=lambda b: (-b.sample_count, b.label))
    del stats.rank_histogram.buckets[:]
    for rank, bucket in enumerate(buckets):
        bucket.low_rank = bucket.high_rank = rank
        stats.rank_histogram.buckets.append(bucket)
    return feature


def test_statistics_without_beam_equal_those_of_tfx_beam_pipeline(examples, tmp_path):
    context = {"beam_pipeline_args": BEAM}
    theirs = _statistics(
        tfx_statistics.Executor(tfx_statistics.Executor.Context(**context)),
        examples,
        tmp_path / "tfx",
    )
    ours_executor = statistics_gen.Executor(statistics_gen.Executor.Context(**context))
    ours = _statistics(ours_executor, examples, tmp_path / "ours")
    assert set(ours) == set(theirs) == {"train", "eval"}
    for split in ours:
        (our_dataset,), (their_dataset,) = ours[split].datasets, theirs[split].datasets
        assert our_dataset.num_examples == their_dataset.num_examples > 0
        ours_by_feature, theirs_by_feature = _by_feature(ours[split]), _by_feature(theirs[split])
        assert set(ours_by_feature) == set(theirs_by_feature)
        for name, feature in theirs_by_feature.items():
            assert ours_by_feature[name] == feature, f"{split}: {name}"


@pytest.mark.parametrize(
    "args, in_process",
    [
        (BEAM, True),
        (["--runner=DirectRunner"], True),
        (
            [
                "--runner=FnApiRunner",
                "--direct_running_mode=multi_processing",
                "--direct_num_workers=2",
            ],
            False,
        ),
        (["--runner=DataflowRunner", "--project=p"], False),
        (["--runner=FlinkRunner"], False),
    ],
)
def test_only_an_in_process_runner_skips_beam(args, in_process):
    assert statistics_gen.runs_in_process(args) is in_process
