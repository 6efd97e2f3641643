"""The dataset config is validated once, with errors that name the key and the problem."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from models import features as F
from pipeline.config import (
    ConfigError,
    Monitoring,
    config_from_dict,
    load_config,
    with_overrides,
)
from tests.conftest import ROOT, TAXI_CONFIG


def test_bundled_taxi_config_loads_into_typed_objects():
    config = load_config(TAXI_CONFIG, base_dir=ROOT)
    assert config.name == "taxi"
    assert config.data_root == ROOT / "data" / "taxi"
    assert config.model.label == F.Label(
        name="big_tipper",
        column="tips",
        rule=F.GREATER_THAN_FRACTION_OF,
        threshold=0.2,
        of_column="fare",
    )
    assert {f.kind for f in config.model.features} == set(F.FEATURE_KINDS)
    assert config.split_buckets == (("train", 2), ("eval", 1))  # TFX's hash ranges, in order
    assert config.evaluation.slices[0] == ()  # the overall slice always comes first
    assert "--runner=FnApiRunner" in config.beam.args(ROOT / "setup.py")


def test_relative_paths_resolve_against_base_dir(taxi_raw, tmp_path):
    config = config_from_dict(taxi_raw, base_dir=tmp_path)
    assert config.metadata_path == tmp_path / "outputs" / "taxi" / "metadata.sqlite"


def test_a_config_files_relative_paths_start_from_its_repository_not_the_working_folder(
    taxi_raw, tmp_path, monkeypatch
):
    repository = tmp_path / "checkout"
    (repository / "pipeline" / "configs").mkdir(parents=True)
    (repository / "setup.py").write_text("")
    config_file = repository / "pipeline" / "configs" / "taxi.yaml"
    config_file.write_text(yaml.safe_dump(taxi_raw))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = load_config(config_file)
    assert config.metadata_path == repository / "outputs" / "taxi" / "metadata.sqlite"
    assert config.data_root == repository / "data" / "taxi"
    assert config.schema_file == repository / "schema" / "taxi" / "schema.pbtxt"
    assert load_config(config_file, base_dir=elsewhere).data_root == elsewhere / "data" / "taxi"


def test_a_config_file_outside_any_repository_starts_from_its_own_folder(
    taxi_raw, tmp_path, monkeypatch
):
    folder = tmp_path / "configs"
    folder.mkdir()
    config_file = folder / "taxi.yaml"
    config_file.write_text(yaml.safe_dump(taxi_raw))
    monkeypatch.chdir(tmp_path)

    assert load_config(config_file).metadata_path == folder / "outputs/taxi/metadata.sqlite"
    assert config_from_dict(taxi_raw).data_root == tmp_path / "data" / "taxi"  # no file: cwd


def test_a_store_the_old_rule_found_is_not_quietly_replaced_by_a_new_empty_one(
    taxi_raw, tmp_path, monkeypatch
):
    """Before, relative paths started from the working folder: a config kept outside any
    project, run from where its store is, would now point at an empty place."""
    folder = tmp_path / "configs"
    folder.mkdir()
    config_file = folder / "taxi.yaml"
    config_file.write_text(yaml.safe_dump(taxi_raw))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs" / "taxi").mkdir(parents=True)
    (tmp_path / "outputs" / "taxi" / "metadata.sqlite").write_bytes(b"store")

    with pytest.raises(ConfigError) as refused:
        load_config(config_file)
    assert str(refused.value) == (
        f"{config_file}: outputs.metadata 'outputs/taxi/metadata.sqlite' now means "
        f"{folder}/outputs/taxi/metadata.sqlite (relative paths start from the config's "
        f"project), but the store is at {tmp_path}/outputs/taxi/metadata.sqlite: move the "
        "outputs there or give absolute paths"
    )
    (folder / "outputs" / "taxi").mkdir(parents=True)  # moved: the store is found again
    (folder / "outputs" / "taxi" / "metadata.sqlite").write_bytes(b"store")
    assert load_config(config_file).metadata_path.parent == folder / "outputs" / "taxi"


def test_missing_value_tokens_default_to_the_common_ones_and_are_checked(taxi_raw):
    assert config_from_dict(taxi_raw).na_values == ("", "NA", "N/A", "null")
    config = config_from_dict(_set(taxi_raw, "data.na_values", ["", "-", "?"]))
    assert config.na_values == ("", "-", "?")
    with pytest.raises(ConfigError) as refused:
        config_from_dict(_set(taxi_raw, "data.na_values", ["NA", None]), source="c.yaml")
    assert str(refused.value) == (
        "c.yaml: 'data.na_values' must be a list of strings, got ['NA', None] (quote null, "
        "true or 1: YAML reads them as other things)"
    )


def test_the_model_config_survives_the_json_round_trip_to_executors():
    inputs = load_config(TAXI_CONFIG, base_dir=ROOT).model
    assert F.ModelConfig.from_json_dict(inputs.to_json_dict()) == inputs


def _set(raw: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = raw
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return raw


_DELETE = object()


MULTICLASS = {"name": "grade", "column": "tips", "kind": "multiclass"}


@pytest.mark.parametrize(
    "label, message",
    [
        ({**MULTICLASS, "kind": "ordinal"}, "'label.kind' must be one of ('binary', "),
        ({**MULTICLASS, "rule": "as_is"}, "'label.rule' only applies to `kind: binary` labels"),
        ({**MULTICLASS, "classes": ["a"]}, "'label.classes' must list at least two different"),
        ({**MULTICLASS, "classes": ["a", "a"]}, "'label.classes' must list at least two diff"),
        ({**MULTICLASS, "classes": [["a"], "b"]}, "'label.classes' must list text or integer"),
        ({**MULTICLASS, "kind": "regression", "classes": [0, 1]}, "only applies to `kind: mu"),
    ],
)
def test_a_label_kinds_mistakes_are_one_line_naming_the_key(taxi_raw, label, message):
    raw = {**taxi_raw, "label": label}
    raw["evaluation"] = {"slices": []}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        config_from_dict(raw)


def test_thresholds_follow_the_label_kind_with_defaults_when_none_are_given(taxi_raw):
    raw = {**taxi_raw, "label": {"name": "fare_paid", "column": "tips", "kind": "regression"}}
    raw["evaluation"] = {"slices": []}
    config = config_from_dict(raw)
    assert [(t.metric, t.lower_bound, t.max_drop) for t in config.evaluation.thresholds] == [
        ("r_squared", 0.5, 0.01)
    ]
    raw["evaluation"] = {"thresholds": {"auc": {"lower_bound": 0.7}}}
    with pytest.raises(ConfigError, match="'evaluation.thresholds.auc' is not a metric of a "):
        config_from_dict(raw)
    classes = {**MULTICLASS, "classes": [0, 1, 2]}  # integer codes, compared as their digits
    assert config_from_dict({**raw, "label": classes, "evaluation": {}}).model.label.classes == (
        "0",
        "1",
        "2",
    )


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("name", _DELETE, "'name' is required"),
        ("name", "taxi trips!", "'name' must be letters"),
        ("data.root", 3, "'data.root' must be str"),
        ("data.rooot", "x", "unknown key 'data.rooot'"),
        ("features", [], "'features' must list at least one feature"),
        ("features.0.kind", "numerical", "'features[0].kind' must be one of"),
        ("features.1", {"name": "fare", "kind": "numeric"}, "lists 'fare' more than once"),
        ("features.3.top_k", 0, "'features[3].top_k' must be > 0"),
        ("label.column", "fare", "'label.column' 'fare' is also a feature"),
        ("label.rule", "bigger", "'label.rule' must be one of"),
        ("label.of_column", _DELETE, "'label.of_column' is required with rule"),
        ("split", {"train": 2, "test": 1}, "must name exactly 'train' and 'eval'"),
        ("split.eval", 0, "'split.eval' must be > 0"),
        ("training.train_steps", "many", "'training.train_steps' must be int"),
        ("training.hidden_units", [32, -1], "'training.hidden_units' must be a list of positive"),
        ("training.learning_rate", True, "'training.learning_rate' must be float"),
        (
            "evaluation.thresholds.auc_roc",
            {"lower_bound": 0.5},
            "'evaluation.thresholds.auc_roc' is not a metric of a binary label",
        ),
        (
            "evaluation.thresholds",
            {"auc": {"max_drop": 0.01}},
            "must give at least one lower_bound or upper_bound",
        ),
        (
            "evaluation.thresholds.auc.max_drop",
            -0.1,
            "'evaluation.thresholds.auc.max_drop' must be >= 0",
        ),
        ("evaluation.slices", [["hour", 3]], "'evaluation.slices[0]' must be a column name"),
        ("beam.runner", "DirectRunner", "Prism binary"),
        ("outputs.serving_dir", "", "'outputs.serving_dir' must be a non-empty path"),
        ("validation.min_examples_per_split", -5, "must be > 0"),
        ("data.span", True, "'data.span' must be 'latest' or a span number >= 1, got True"),
        ("data.span", 0, "'data.span' must be 'latest' or a span number >= 1, got 0"),
        ("data.span", "newest", "'data.span' must be 'latest' or a span number"),
        ("data.window", 0, "'data.window' must be > 0"),
        (
            "validation.label.max_split_gap",
            1.5,
            "'validation.label.max_split_gap' must be within 0..1",
        ),
        (
            "validation.allow",
            ["DRIFT:fare"],
            "'validation.allow[0]'.*'DRIFT:fare' must be KIND:FEATURE",
        ),
        ("validation.allow", ["COMPARATOR_L_INFTY_HIGH"], "must be KIND:FEATURE"),
        ("name", "t" * 64, "'name' must be at most 63 characters, got 64"),
        ("monitoring.window", "1 hour", "'monitoring.window' must be a duration like 90s"),
        ("monitoring.window", "0m", "'monitoring.window' must be a duration"),
        ("monitoring.max_error_rate", 5, "'monitoring.max_error_rate' must be within 0..1"),
        ("monitoring.min_labels", 0, "'monitoring.min_labels' must be > 0"),
        ("monitoring.quality_floors.f1", 0.5, "'monitoring.quality_floors.f1' is not one of"),
        ("monitoring.rollback_canary", "yes", "'monitoring.rollback_canary' must be bool"),
        ("monitoring.retrain.triggers", ["drift", "time"], "'monitoring.retrain.triggers' knows"),
        ("monitoring.retrain.on", ["drift"], "unknown key 'monitoring.retrain.on'"),
        ("monitoring.latency", 5, "unknown key 'monitoring.latency'"),
    ],
)
def test_each_mistake_is_reported_with_its_key(taxi_raw, key, value, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict(_set(taxi_raw, key, value), source="taxi.yaml")


def test_error_names_the_file(taxi_raw, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_set(taxi_raw, "name", _DELETE)))
    with pytest.raises(ConfigError, match=f"^{path}: 'name' is required"):
        load_config(path)


def test_missing_file_and_invalid_yaml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_a_directory_or_non_utf8_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(binary)


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_from_dict(["not", "a", "mapping"])


def test_a_new_dataset_needs_only_a_config(tmp_path):
    """Nothing about taxis is hard-coded: a different label and features load the same way."""
    raw = {
        "name": "churn",
        "data": {"root": "data/churn"},
        "schema": "schema/churn/schema.pbtxt",
        "label": {"name": "churned", "column": "churned"},
        "features": [
            {"name": "tenure", "kind": "numeric"},
            {"name": "plan", "kind": "categorical"},
        ],
        "split": {"train": 4, "eval": 1},
        "validation": {"min_examples_per_split": 10},
        "training": {"train_steps": 10, "eval_steps": 2},
        "evaluation": {"thresholds": {"auc": {"lower_bound": 0.6}}},
        "outputs": {"pipeline_root": "o/root", "metadata": "o/m.sqlite", "serving_dir": "o/s"},
        "beam": {"runner": "FnApiRunner"},
    }
    config = config_from_dict(raw, base_dir=tmp_path)
    assert config.model.label.rule == F.AS_IS
    assert config.model.label.source_columns == ("churned",)
    assert config.data_root == pathlib.Path(tmp_path) / "data" / "churn"


def test_allow_from_the_command_line_adds_to_the_config_and_is_checked(taxi_raw):
    config = config_from_dict(_set(taxi_raw, "validation.allow", ["LABEL_MISSING:big_tipper"]))
    merged = with_overrides(config, span=2, allow=["SKEW_COMPARATOR_L_INFTY_HIGH:company"])
    assert merged.span == 2
    assert merged.validation.allow == (
        "LABEL_MISSING:big_tipper",
        "SKEW_COMPARATOR_L_INFTY_HIGH:company",
    )
    with pytest.raises(ConfigError, match="did you mean COMPARATOR_L_INFTY_HIGH"):
        with_overrides(config, allow=["COMPARATOR_L_INFTY:fare"])


def test_the_monitoring_section_is_read_typed_and_may_be_left_out(taxi_raw):
    monitoring = config_from_dict(taxi_raw, source="taxi.yaml").monitoring
    assert monitoring.window_seconds == 3600 and monitoring.quality_floors == (("auc", 0.7),)
    assert monitoring.retrain_on == ("drift", "quality", "new_labels")
    del taxi_raw["monitoring"]
    assert config_from_dict(taxi_raw, source="taxi.yaml").monitoring == Monitoring()
    taxi_raw["monitoring"] = {"window": "90s", "quality_floors": {"recall": 0.5}}
    monitoring = config_from_dict(taxi_raw, source="taxi.yaml").monitoring
    assert (monitoring.window_seconds, monitoring.quality_floors) == (90, (("recall", 0.5),))


HOUR_RULE = {"slice": {"trip_start_hour": 19}, "metric": "auc", "lower_bound": 0.8}


def test_the_blessing_rules_are_read_typed_and_may_be_left_out(taxi_raw):
    from components.blessing_rules import BeatsBaseline, BlessingRules, SliceThreshold

    assert config_from_dict(taxi_raw).evaluation.rules == BlessingRules()
    taxi_raw["evaluation"]["slices"].append(["payment_type", "trip_start_hour"])
    taxi_raw["evaluation"]["beats_baseline"] = {"metric": "auc"}
    taxi_raw["evaluation"]["slice_thresholds"] = [
        {"slice": {"payment_type": "Credit Card"}, "metric": "f1_score", "upper_bound": 0.99},
        dict(HOUR_RULE, slice={"trip_start_hour": 3, "payment_type": "Cash"}, min_examples=20),
    ]
    assert config_from_dict(taxi_raw).evaluation.rules == BlessingRules(
        beats_baseline=BeatsBaseline("auc", 0.0),
        slice_thresholds=(
            SliceThreshold((("payment_type", "Credit Card"),), "f1_score", None, 0.99, 100),
            SliceThreshold(
                (("payment_type", "Cash"), ("trip_start_hour", 3)), "auc", 0.8, None, 20
            ),
        ),
    )


@pytest.mark.parametrize(
    "rule, value, message",
    [
        (
            "beats_baseline",
            {"metric": "f1_score"},
            "'evaluation.beats_baseline.metric' must be auc (what the quick baseline measures "
            "for a binary label), got 'f1_score'",
        ),
        ("beats_baseline", {"margin": "big"}, "'evaluation.beats_baseline.margin' must be float"),
        (
            "beats_baseline",
            {"margin": 2},
            "'evaluation.beats_baseline.margin' must be within -1..1",
        ),
        ("beats_baseline", {"metirc": "auc"}, "unknown key 'evaluation.beats_baseline.metirc'"),
        ("beats_baseline", None, "'evaluation.beats_baseline' must be dict, got None"),
        ("slice_thresholds", HOUR_RULE, "'evaluation.slice_thresholds' must be list"),
        ("slice_thresholds", ["hour"], "'evaluation.slice_thresholds[0]' must be a mapping"),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, slice={"fare": 5})],
            "'evaluation.slice_thresholds[0].slice' must name the columns of one configured "
            "slice (evaluation.slices: trip_start_hour, payment_type), got ['fare']: TFMA "
            "computes only those",
        ),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, slice={"trip_start_hour": 3, "payment_type": "Cash"})],
            "'evaluation.slice_thresholds[0].slice' must name the columns of one configured",
        ),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, slice={})],
            "'evaluation.slice_thresholds[0].slice' must name the columns of one configured",
        ),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, slice={"trip_start_hour": True})],
            "'evaluation.slice_thresholds[0].slice.trip_start_hour' must be a text or number",
        ),
        (
            "slice_thresholds",
            [HOUR_RULE, dict(HOUR_RULE, metric="auc_roc")],
            "'evaluation.slice_thresholds[1].metric' 'auc_roc' is not a metric of a binary label",
        ),
        (
            "slice_thresholds",
            [{"slice": {"trip_start_hour": 19}, "metric": "auc"}],
            "'evaluation.slice_thresholds[0].lower_bound' or upper_bound is required",
        ),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, min_examples=0)],
            "'evaluation.slice_thresholds[0].min_examples' must be > 0",
        ),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, lower_bound="high")],
            "'evaluation.slice_thresholds[0].lower_bound' must be float",
        ),
        (
            "slice_thresholds",
            [dict(HOUR_RULE, bound=0.8)],
            "unknown key 'evaluation.slice_thresholds[0].bound'",
        ),
    ],
)
def test_each_bad_blessing_rule_is_one_line_naming_the_file_and_key(
    taxi_raw, tmp_path, rule, value, message
):
    taxi_raw["evaluation"][rule] = value
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(taxi_raw))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path}: ") and "\n" not in str(refused.value)
    assert message in str(refused.value)
