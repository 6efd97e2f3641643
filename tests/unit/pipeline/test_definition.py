"""The pipeline definition: the chain, its gate, its cache keys and what cannot be built."""

from __future__ import annotations

import json
import shutil

import pytest
from tfx.types import Channel, standard_artifacts

from components.fingerprint import code_fingerprint
from components.pusher import BlessedPusher
from pipeline import definition
from pipeline.config import config_from_dict
from pipeline.local_runner import local_placement
from tests.conftest import ROOT, small_config_dict, write_sample


@pytest.fixture
def config(tmp_path, taxi_raw):
    data = write_sample(tmp_path / "data", 200)
    return config_from_dict(small_config_dict(tmp_path, data.parent.parent), base_dir=ROOT)


def _build(config):
    return definition.build_pipeline(config, local_placement(config))


def _node(pipeline, node_id):
    return next(c for c in pipeline.components if c.id == node_id)


def _data_fingerprint(pipeline) -> str:
    """The content hash ExampleGen carries (TFX keeps the CustomConfig as JSON)."""
    return json.loads(_node(pipeline, "CsvExampleGen").exec_properties["custom_config"])[
        "custom_config"
    ]["value"]


def test_the_chain_and_its_edges(config):
    pipeline = _build(config)
    upstream = {c.id: sorted(u.id for u in c.upstream_nodes) for c in pipeline.components}
    assert upstream == {
        "CsvExampleGen": [],
        "CuratedSchemaImporter": [],
        "latest_blessed_model_resolver": [],
        "previous_accepted_span_resolver": [],
        "StatisticsGen": ["CsvExampleGen", "CuratedSchemaImporter"],
        "ExampleValidator": ["CuratedSchemaImporter", "StatisticsGen"],
        "ExampleGate": [
            "CsvExampleGen",
            "CuratedSchemaImporter",
            "ExampleValidator",
            "StatisticsGen",
            "previous_accepted_span_resolver",
        ],
        "accepted_span_window_resolver": ["ExampleGate"],
        "Transform": ["CuratedSchemaImporter", "ExampleGate", "accepted_span_window_resolver"],
        # the raw window, through Transform's graph
        "Trainer": ["CuratedSchemaImporter", "Transform", "accepted_span_window_resolver"],
        "Evaluator": ["CsvExampleGen", "Trainer", "latest_blessed_model_resolver"],
        "BlessedPusher": ["Evaluator", "Trainer"],
    }


def test_the_splits_take_the_same_hash_ranges_whichever_order_the_yaml_lists_them(tmp_path):
    """TFX hands out hash ranges in the output config's order: listing eval first (as a YAML
    dump with sorted keys does) must not move rows from one split to the other."""
    data = write_sample(tmp_path / "data", 200)
    raw = small_config_dict(tmp_path, data.parent.parent)
    raw["split"] = {"eval": 1, "train": 2}
    eval_first = _node(_build(config_from_dict(raw, base_dir=ROOT)), "CsvExampleGen")
    raw["split"] = {"train": 2, "eval": 1}
    train_first = _node(_build(config_from_dict(raw, base_dir=ROOT)), "CsvExampleGen")
    output_config = json.loads(eval_first.exec_properties["output_config"])
    assert output_config == json.loads(train_first.exec_properties["output_config"])
    splits = output_config["split_config"]["splits"]
    assert [(s["name"], s["hash_buckets"]) for s in splits] == [("train", 2), ("eval", 1)]


def test_transform_waits_for_the_gate(config):
    pipeline = _build(config)
    assert _node(pipeline, "ExampleGate") in _node(pipeline, "Transform").upstream_nodes


def test_a_pusher_without_a_blessing_cannot_be_built():
    with pytest.raises(Exception, match="model_blessing"):
        BlessedPusher(model=Channel(type=standard_artifacts.Model), serving_dir="/tmp/serving")


def test_data_content_is_part_of_the_example_gen_cache_key(config):
    before = _data_fingerprint(_build(config))
    csv = config.data_root / "span-1" / "data.csv"
    text = csv.read_text()
    csv.write_text(text.replace("Cash", "Cahs", 1))  # same size
    assert _data_fingerprint(_build(config)) != before


def test_model_code_is_part_of_transform_and_trainer_cache_keys(config, tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(definition, "CODE_ROOT", tmp_path)
    before = _build(config)
    (models / "preprocessing.py").write_text(
        (models / "preprocessing.py").read_text() + "\n# edited\n"
    )
    after = _build(config)
    for node in ("Transform", "Trainer"):
        assert (
            _node(before, node).exec_properties["custom_config"]
            != _node(after, node).exec_properties["custom_config"]
        )
    (models / "model.py").write_text((models / "model.py").read_text() + "\n# edited\n")
    model_only = _build(config)
    assert (
        _node(after, "Transform").exec_properties["custom_config"]
        == _node(model_only, "Transform").exec_properties["custom_config"]
    )
    assert (
        _node(after, "Trainer").exec_properties["custom_config"]
        != _node(model_only, "Trainer").exec_properties["custom_config"]
    )


def test_the_schema_enters_by_content(config):
    importer = _node(_build(config), "CuratedSchemaImporter")
    assert importer.exec_properties["schema_text"] == config.schema_file.read_text()


def test_value_thresholds_apply_to_the_overall_slice_only(config):
    eval_config = definition.eval_config(config)
    auc = next(m for m in eval_config.metrics_specs[0].metrics if m.class_name == "AUC")
    assert not auc.HasField("threshold")
    (per_slice,) = auc.per_slice_thresholds
    assert [s.feature_keys for s in per_slice.slicing_specs] == [[]]
    assert per_slice.threshold.value_threshold.lower_bound.value == 0.7
    assert per_slice.threshold.change_threshold.absolute.value == pytest.approx(-0.05, abs=1e-6)
    assert [list(s.feature_keys) for s in eval_config.slicing_specs] == [
        [],
        ["trip_start_hour"],
        ["payment_type"],
    ]


def test_an_allow_entry_for_a_column_the_schema_lacks_is_refused(config):
    from pipeline.config import with_overrides
    from pipeline.schema import SchemaError

    typo = with_overrides(config, allow=["COMPARATOR_L_INFTY_HIGH:compnay"])
    with pytest.raises(SchemaError, match="declares no column 'compnay'"):
        _build(typo)
    _build(with_overrides(config, allow=["LABEL_RATE_CHANGE:big_tipper"]))


def test_the_gate_is_keyed_on_its_own_code_and_the_label_rule_it_imports(
    config, tmp_path, monkeypatch
):
    for package in ("components", "models", "metadata"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    monkeypatch.setattr(definition, "CODE_ROOT", tmp_path)
    before = _node(_build(config), "ExampleGate").exec_properties["code_sha256"]
    assert before == code_fingerprint("components.example_gate", root=tmp_path)
    for edited in ("components/validation.py", "models/preprocessing.py", "metadata/verdicts.py"):
        path = tmp_path / edited
        path.write_text(path.read_text() + "\n# edited\n")
        after = _node(_build(config), "ExampleGate").exec_properties["code_sha256"]
        assert after != before, edited
        before = after
    (tmp_path / "models" / "model.py").write_text("# not what the gate runs\n")
    assert _node(_build(config), "ExampleGate").exec_properties["code_sha256"] == before


def test_a_schema_missing_a_configured_column_is_refused(config, tmp_path):
    from pipeline.schema import SchemaError

    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "fare" type: FLOAT }\n')
    broken = config.__class__(**{**config.__dict__, "schema_file": schema})
    with pytest.raises(SchemaError, match="does not declare column"):
        _build(broken)


def test_hyperparameters_key_the_trainer_but_not_transform(config):
    before = _build(config)
    steps = config.model.training.__class__(**{**config.model.training.__dict__, "train_steps": 7})
    inputs = config.model.__class__(**{**config.model.__dict__, "training": steps})
    after = _build(config.__class__(**{**config.__dict__, "model": inputs}))
    assert (
        _node(before, "Transform").exec_properties["custom_config"]
        == _node(after, "Transform").exec_properties["custom_config"]
    )
    assert (
        _node(before, "Trainer").exec_properties["custom_config"]
        != _node(after, "Trainer").exec_properties["custom_config"]
    )


def test_a_slice_on_an_undeclared_column_is_refused(config):
    from pipeline.config import Evaluation
    from pipeline.schema import SchemaError

    evaluation = Evaluation(
        slices=((), ("trip_start_hours",)), thresholds=config.evaluation.thresholds
    )
    with pytest.raises(SchemaError, match="trip_start_hours"):
        _build(config.__class__(**{**config.__dict__, "evaluation": evaluation}))


@pytest.mark.parametrize(
    "column, expected",
    [
        (
            "fare",
            "feature 'fare' is `kind: numeric` in .*, but schema.pbtxt types it as BYTES",
        ),
        ("tips", "label column 'tips' is BYTES in schema.pbtxt, but label rule"),
    ],
)
def test_text_where_the_config_needs_numbers_is_refused_saying_what_to_change(
    config, tmp_path, column, expected
):
    """An 'NA' token in a numeric column makes the column text: Transform would fail on a
    cast deep inside Beam."""
    from pipeline.schema import SchemaError

    text = config.schema_file.read_text()
    start = text.index(f'name: "{column}"')
    typed = text.index("type: FLOAT", start)
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(text[:typed] + "type: BYTES" + text[typed + len("type: FLOAT") :])
    with pytest.raises(SchemaError, match=expected.replace("`", ".")) as refused:
        _build(config.__class__(**{**config.__dict__, "schema_file": schema}))
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "column, label, message",
    [
        (
            "type: INT",
            {"positive": "1"},
            "label column 'outcome' is INT in schema.pbtxt, but `label.positive` compares text: "
            "for a numeric label use `rule: as_is` (0/1) or `greater_than`",
        ),
        (
            'type: BYTES string_domain { value: "benign" value: "malignant" }',
            {"positive": "Malignant"},
            "`label` value 'Malignant' is not among 'outcome''s values in schema.pbtxt: "
            "benign, malignant",
        ),
    ],
)
def test_a_text_label_that_could_not_match_is_refused_before_anything_runs(
    config, tmp_path, column, label, message
):
    from pipeline.schema import SchemaError, check_schema_covers_config, read_schema

    original = (ROOT / "schema" / "taxi" / "schema.pbtxt").read_text()
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(original + f'feature {{ name: "outcome" {column} }}\n')
    text_label = config.model.label.__class__("bad", "outcome", "equals", **label)
    model = config.model.__class__(**{**config.model.__dict__, "label": text_label})
    broken = config.__class__(**{**config.__dict__, "schema_file": schema, "model": model})
    with pytest.raises(SchemaError) as refused:
        check_schema_covers_config(read_schema(schema), broken)
    assert str(refused.value) == message


def test_the_evaluator_reads_the_trainers_model_run_and_its_rules_key_its_cache(config):
    """The quick baseline comes from the Trainer's ModelRun; the rules are an execution
    property, so a changed rule evaluates again (and an unchanged one stays cached)."""
    import dataclasses

    from components.blessing_rules import BeatsBaseline, BlessingRules

    before = _node(_build(config), "Evaluator")
    assert before.inputs["model_run"].producer_component_id == "Trainer"
    rules = BlessingRules(beats_baseline=BeatsBaseline("auc", 0.01))
    evaluation = dataclasses.replace(config.evaluation, rules=rules)
    after = _node(_build(dataclasses.replace(config, evaluation=evaluation)), "Evaluator")
    assert BlessingRules.from_json(before.exec_properties["blessing_rules"]) == BlessingRules()
    assert BlessingRules.from_json(after.exec_properties["blessing_rules"]) == rules
    assert before.exec_properties["eval_config"] == after.exec_properties["eval_config"]


def _with_label(config, **label):
    import dataclasses

    from models import features as F

    model = dataclasses.replace(config.model, label=F.Label(**label))
    return dataclasses.replace(config, model=model)


def test_a_multiclass_evaluation_loads_our_metrics_with_the_classes_in_order(config):
    multiclass = _with_label(
        config, name="grade", column="tips", kind="multiclass", classes=("low", "mid", "high")
    )
    metrics = {m.class_name: m for m in definition.eval_config(multiclass).metrics_specs[0].metrics}
    assert set(metrics) == {"ExampleCount", "MulticlassAccuracy", "MacroF1Score"}
    for name in ("MulticlassAccuracy", "MacroF1Score"):
        assert metrics[name].module == "components.model_metrics"
        assert json.loads("{" + metrics[name].config + "}") == {"classes": ["low", "mid", "high"]}


def test_an_errors_max_drop_bounds_its_growth_not_its_fall(config):
    import dataclasses

    from pipeline.config import Evaluation, Threshold

    regression = _with_label(config, name="price", column="tips", kind="regression")
    regression = dataclasses.replace(
        regression,
        evaluation=Evaluation(
            slices=((),),
            thresholds=(Threshold("root_mean_squared_error", upper_bound=5.0, max_drop=0.5),),
        ),
    )
    metrics = definition.eval_config(regression).metrics_specs[0].metrics
    rmse = next(m for m in metrics if m.class_name == "RootMeanSquaredError")
    threshold = rmse.per_slice_thresholds[0].threshold
    import tensorflow_model_analysis as tfma

    # candidate - served <= 0.5: an error may grow by at most its max_drop
    assert threshold.change_threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER
    assert threshold.change_threshold.absolute.value == pytest.approx(0.5)
    assert threshold.value_threshold.upper_bound.value == 5.0
