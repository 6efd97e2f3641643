"""StatisticsGen without Beam writes what TFX's own StatisticsGen writes: run side by side on
the same examples of the bundled spans, with the curated schema, TFX's executor (its Beam
pipeline) and ours give the same statistics and the same artifact properties. Ours reads them
in many small batches and never reaches Beam. The two differ only where Beam differs from
itself: means and deviations in their last digits, and the order of values tied in frequency.
A runner that spreads work, or examples this executor does not read, still get Beam."""

from __future__ import annotations

import pathlib

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import executor as tfx_statistics
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components import csv_examples, statistics_gen
from tests.conftest import ROOT, TAXI_ROOT

TOP_VALUES = 20  # TFDV's default count of top values listed
# As the local run passes them (`pipeline/beam_options.py`): with a setup file, TFX builds no
# sdist of itself per executor.
BEAM = [
    "--runner=FnApiRunner",
    "--direct_running_mode=in_memory",
    "--direct_num_workers=1",
    f"--setup_file={ROOT / 'setup.py'}",
]
SPLITS = ("train", "eval")


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> standard_artifacts.Examples:
    """The four bundled spans (15,002 rows) as ExampleGen writes them, unevenly split."""
    root = tmp_path_factory.mktemp("examples")
    files = [str(path) for path in sorted(TAXI_ROOT.glob("span-*/data.csv"))]
    csv_examples.write_splits(files, [str(root / f"Split-{s}") for s in SPLITS], ("",), [3, 4])
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = artifact_utils.encode_split_names(list(SPLITS))
    artifact.span = 4
    return artifact


def _statistics(executor, examples, out: pathlib.Path):
    schema = standard_artifacts.Schema()
    schema.uri = str(out / "schema")
    (out / "schema").mkdir(parents=True)
    (out / "schema" / "schema.pbtxt").write_text((ROOT / "schema/taxi/schema.pbtxt").read_text())
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
    result = {}
    for split in artifact_utils.decode_split_names(statistics.split_names):
        path = pathlib.Path(artifact_utils.get_split_uri([statistics], split)) / "FeatureStats.pb"
        result[split] = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
    properties = (
        statistics.split_names,
        statistics.span,
        statistics.get_json_value_custom_property(
            tfx_statistics.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME
        ),
    )
    return result, properties


def _by_feature(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> dict:
    (dataset,) = statistics.datasets
    return {feature.path.step[0]: _comparable(feature) for feature in dataset.features}


def _comparable(feature: statistics_pb2.FeatureNameStatistics):
    """The feature's statistics as both ways must agree on them: the mean and deviation to
    nine digits (Beam's own differ run to run in the last ones), and values of equal
    frequency listed by value (the two rank ties in different orders, which nothing
    downstream reads: drift and domain checks compare values by name; so a full top-20 may
    end on different values of its last tied frequency)."""
    feature = statistics_pb2.FeatureNameStatistics.FromString(feature.SerializeToString())
    if feature.HasField("num_stats"):
        feature.num_stats.mean = float(f"{feature.num_stats.mean:.9g}")
        feature.num_stats.std_dev = float(f"{feature.num_stats.std_dev:.9g}")
    if not feature.HasField("string_stats"):
        return feature
    stats = feature.string_stats
    top = sorted(stats.top_values, key=lambda v: (-v.frequency, v.value))
    if len(top) == TOP_VALUES:
        top = [v for v in top if v.frequency > top[-1].frequency]
    del stats.top_values[:]
    stats.top_values.extend(top)
    buckets = sorted(stats.rank_histogram.buckets, key=lambda b: (-b.sample_count, b.label))
    del stats.rank_histogram.buckets[:]
    for rank, bucket in enumerate(buckets):
        bucket.low_rank = bucket.high_rank = rank
        stats.rank_histogram.buckets.append(bucket)
    return feature


def _never_beam(*args, **kwargs):
    raise AssertionError("the in-process path reached TFX's Beam executor")


def test_statistics_without_beam_equal_those_of_tfx_beam_pipeline(examples, tmp_path, monkeypatch):
    context = tfx_statistics.Executor.Context(beam_pipeline_args=BEAM)
    theirs, their_properties = _statistics(
        tfx_statistics.Executor(context), examples, tmp_path / "tfx"
    )
    monkeypatch.setattr(tfx_statistics.Executor, "Do", _never_beam)
    monkeypatch.setattr(statistics_gen, "BATCH_ROWS", 97)  # many batches, one short at the end
    ours, our_properties = _statistics(
        statistics_gen.Executor(context), examples, tmp_path / "ours"
    )
    assert our_properties == their_properties
    assert set(ours) == set(theirs) == set(SPLITS)
    for split in SPLITS:
        (our_dataset,), (their_dataset,) = ours[split].datasets, theirs[split].datasets
        assert our_dataset.num_examples == their_dataset.num_examples > 1000
        ours_by_feature, theirs_by_feature = _by_feature(ours[split]), _by_feature(theirs[split])
        assert set(ours_by_feature) == set(theirs_by_feature)
        for name, feature in theirs_by_feature.items():
            assert ours_by_feature[name] == feature, f"{split}: {name}"


def test_a_split_with_no_files_is_an_error_as_in_tfx(examples, tmp_path):
    empty = standard_artifacts.Examples()
    empty.uri = str(tmp_path / "examples")
    empty.split_names = examples.split_names
    (tmp_path / "examples" / "Split-train").mkdir(parents=True)
    (tmp_path / "examples" / "Split-eval").mkdir()
    context = statistics_gen.Executor.Context(beam_pipeline_args=BEAM)
    with pytest.raises(OSError, match="No files found based on the file pattern .*Split-train"):
        _statistics(statistics_gen.Executor(context), empty, tmp_path / "out")


@pytest.mark.parametrize(
    "args, in_process",
    [
        (BEAM, True),
        (["--runner", "FnApiRunner"], True),
        (["--runner=FnApiRunner", "--direct_running_mode=multi_processing"], False),
        (["--runner", "FnApiRunner", "--direct_running_mode", "multi_threading"], False),
        (["--runner=DataflowRunner", "--project=p"], False),
        (["--runner", "DataflowRunner"], False),
        (["--runner=FlinkRunner", "--labels", "runner=FnApiRunner"], False),
    ],
)
def test_only_an_in_process_runner_skips_beam(args, in_process):
    assert statistics_gen.runs_in_process(args) is in_process


def test_examples_it_does_not_read_go_to_tfx_executor(examples, monkeypatch):
    calls = []
    monkeypatch.setattr(tfx_statistics.Executor, "Do", lambda self, *a: calls.append(a))
    parquet = standard_artifacts.Examples()
    parquet.uri, parquet.split_names = examples.uri, examples.split_names
    parquet.set_string_custom_property("file_format", "parquet")
    context = statistics_gen.Executor.Context(beam_pipeline_args=BEAM)
    statistics_gen.Executor(context).Do({standard_component_specs.EXAMPLES_KEY: [parquet]}, {}, {})
    assert len(calls) == 1
