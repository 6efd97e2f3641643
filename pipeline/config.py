"""Dataset configuration: one YAML file per dataset, parsed once into frozen, typed objects.

Everything dataset-specific lives in the YAML; code below this edge receives `PipelineConfig`.
Relative paths in a config file are resolved against the project the file belongs to (the
nearest folder above it holding `setup.py`, else the file's own folder), so `tfxp runs --config
/abs/taxi.yaml` finds the same store from any folder. A `base_dir` overrides that (a test
relocates a config with it); a config given as a mapping, with no file, resolves against the
working directory.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from components.blessing_rules import (
    BASELINE_METRICS,
    DEFAULT_MIN_EXAMPLES,
    BeatsBaseline,
    BlessingRules,
    SliceThreshold,
)
from components.validation import KINDS, LabelLimits, Validation
from models import features as F
from pipeline.beam_options import beam_args
from pipeline.csv_table import NA_VALUES

SPLIT_ORDER = ("train", "eval")  # the order of the hash ranges, whatever the YAML's order
MAX_NAME_LENGTH = 63  # TFX 1.16's limit on a pipeline name (and Kubernetes' on a label)


class ConfigError(ValueError):
    """A dataset config is unreadable, misses a key, or holds a value of the wrong kind."""


# Metric keys a config may put thresholds on, per label kind, and the TFMA metric class each
# one means (those TFMA lacks are ours, in `components.model_metrics`).
METRICS = {
    F.BINARY: {
        "auc": "AUC",
        "auc_precision_recall": "AUCPrecisionRecall",  # fit for imbalance, as F1 is
        "f1_score": "F1Score",
        "precision": "Precision",
        "recall": "Recall",
        "binary_accuracy": "BinaryAccuracy",
        "calibration": "Calibration",
    },
    F.MULTICLASS: {
        "accuracy": "MulticlassAccuracy",
        "macro_f1_score": "MacroF1Score",  # also each class's precision and recall
    },
    F.REGRESSION: {
        "r_squared": "RSquared",
        "root_mean_squared_error": "RootMeanSquaredError",
        "mean_absolute_error": "MeanAbsoluteError",
    },
}
OUR_METRICS = ("MulticlassAccuracy", "MacroF1Score", "RSquared", "RootMeanSquaredError")
LOWER_IS_BETTER = ("root_mean_squared_error", "mean_absolute_error")
AREA_METRICS = ("auc", "auc_precision_recall")  # computed over thresholds
# Blessing when a config gives no thresholds: a floor, and no worse than the served model.
DEFAULT_THRESHOLDS = {
    F.BINARY: {"auc": {"lower_bound": 0.7, "max_drop": 0.01}},
    F.MULTICLASS: {"accuracy": {"lower_bound": 0.5, "max_drop": 0.01}},
    F.REGRESSION: {"r_squared": {"lower_bound": 0.5, "max_drop": 0.01}},
}

# Runners that execute in this process without reaching the network. Beam 2.74's plain
# `DirectRunner` first tries to download the Prism binary, so it is refused here.
LOCAL_BEAM_RUNNERS = ("FnApiRunner", "BundleBasedDirectRunner")


@dataclasses.dataclass(frozen=True)
class Threshold:
    """Bounds a metric must meet to bless a model; `max_drop` is against the latest blessed one."""

    metric: str
    lower_bound: float | None = None
    upper_bound: float | None = None
    max_drop: float | None = None


# Above this many eval rows the Evaluator judges a deterministic sample of this many
# (components/eval_sample.py): AUC to about +-0.003, at a fixed cost however large the span.
MAX_EVAL_EXAMPLES = 100_000


@dataclasses.dataclass(frozen=True)
class Evaluation:
    slices: tuple[tuple[str, ...], ...]
    thresholds: tuple[Threshold, ...]  # TFMA's, on the overall slice
    rules: BlessingRules = BlessingRules()  # ours: beats_baseline, slice_thresholds
    max_examples: int | None = MAX_EVAL_EXAMPLES  # eval rows judged; None: every row


@dataclasses.dataclass(frozen=True)
class Beam:
    runner: str
    direct_running_mode: str
    direct_num_workers: int

    def args(self, setup_file: pathlib.Path) -> list[str]:
        """Beam flags for every Beam-based component (`beam_options.beam_args`)."""
        options = dict(
            direct_running_mode=self.direct_running_mode,
            direct_num_workers=self.direct_num_workers,
        )
        return beam_args(self.runner, options, setup_file=setup_file)


RETRAIN_TRIGGERS = ("drift", "quality", "new_labels")


@dataclasses.dataclass(frozen=True)
class Monitoring:
    """What `tfxp monitor` judges served traffic by (the config's `monitoring:`); input drift
    and skew use the curated schema's comparators, as the data gate does."""

    window_seconds: int = 3600  # the default `--window`
    min_rows: int = 100  # a window with fewer predictions is measured, not judged
    max_latency_p99_ms: float = 250.0
    max_error_rate: float = 0.01  # failed requests (4xx and 5xx) among all
    max_null_output_rate: float = 0.0  # answers with no finite score
    max_score_drift: float = 0.1  # Jensen-Shannon divergence of the score histogram
    min_labels: int = 100  # feedback labels a version needs before its quality is judged
    quality_floors: tuple[tuple[str, float], ...] = (("auc", 0.7),)  # metric, lowest allowed
    max_auc_drop: float = 0.05  # served AUC below the version's own evaluation AUC by more
    max_candidate_drop: float = 0.02  # candidate's AUC below live's by more: it is worse
    rollback_canary: bool = False  # withdraw a canary the monitor finds worse than live
    retrain_on: tuple[str, ...] = ("drift", "quality", "new_labels")
    retrain_min_new_labels: int = 1000  # labelled rows since the last `data from-log` span


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """One dataset's pipeline: where the data is, what the model learns, where results go."""

    name: str
    config_file: pathlib.Path
    data_root: pathlib.Path  # holds span-<N>/ folders of CSV files
    span: int | None  # the span a run ingests; None: the newest
    window: int  # how many accepted spans, newest first, Transform and Trainer see
    serving_root: pathlib.Path | None  # CSV files seen at serving time, for the skew check
    schema_file: pathlib.Path
    model: F.ModelConfig
    split_buckets: tuple[tuple[str, int], ...]
    validation: Validation  # what the data gate stops on
    evaluation: Evaluation
    pipeline_root: pathlib.Path
    metadata_path: pathlib.Path
    serving_dir: pathlib.Path
    beam: Beam
    monitoring: Monitoring = Monitoring()
    na_values: tuple[str, ...] = NA_VALUES  # CSV cells that mean "missing", everywhere read


class Reader:
    """Typed access to one mapping of the YAML, naming the full key in every error."""

    def __init__(self, raw: Any, where: str, source: str, error: type = ConfigError):
        if not isinstance(raw, Mapping):
            raise error(f"{source}: '{where}' must be a mapping, got {type(raw).__name__}")
        self.raw, self.where, self.source, self.error = raw, where, source, error
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return self.error(f"{self.source}: '{self.key(name)}' {problem}")

    def get(self, name: str, kind: type | tuple, default: Any = ...) -> Any:
        self.seen.add(name)
        if name not in self.raw:
            if default is ...:
                raise self.fail(name, "is required")
            return default
        value = self.raw[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and kind in (int, float) or not isinstance(value, kind):
            expected = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(name, f"must be {expected}, got {value!r}")
        return value

    def positive(self, name: str, kind: type, default: Any = ...) -> Any:
        value = self.get(name, kind, default)
        if value is not None and value <= 0:
            raise self.fail(name, f"must be > 0, got {value!r}")
        return value

    def child(self, name: str, default: Any = ...) -> Reader:
        return Reader(self.get(name, dict, default), self.key(name), self.source, self.error)

    def done(self) -> None:
        """Unknown keys are errors: a misspelt key must not be silently ignored."""
        unknown = sorted(set(self.raw) - self.seen)
        if unknown:
            raise self.error(
                f"{self.source}: unknown key '{self.key(unknown[0])}'"
                f" (known here: {', '.join(sorted(self.seen))})"
            )


def read_yaml(path: pathlib.Path, what: str, error: type = ConfigError) -> Any:
    """Parse a YAML file, turning a missing file or bad YAML into one `error` line."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as err:  # a directory, no permission, not UTF-8
        raise error(f"{path}: cannot read the {what}: {err}") from None
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML: {err}") from None


def project_root_of(config_file: pathlib.Path) -> pathlib.Path:
    """The folder a config file's relative paths start from: the nearest folder above it that
    holds `setup.py` (its repository), else the folder the file is in."""
    folder = config_file.resolve().parent
    return next((d for d in (folder, *folder.parents) if (d / "setup.py").is_file()), folder)


def _no_store_left_behind(written: str, resolved: pathlib.Path, source: str) -> None:
    """Relative paths once started from the working directory. A config outside any project
    that named its store relatively, run from where that store is, would otherwise quietly
    get a new, empty store (and retrain and push into a new serving folder): refused in one
    line instead, until the store is moved or the path made absolute."""
    if pathlib.Path(written).is_absolute():
        return
    before = (pathlib.Path.cwd() / written).resolve()
    if before != resolved and before.exists() and not resolved.exists():
        raise ConfigError(
            f"{source}: outputs.metadata {written!r} now means {resolved} (relative paths "
            f"start from the config's project), but the store is at {before}: move the "
            "outputs there or give absolute paths"
        )


def load_config(
    path: str | pathlib.Path, base_dir: str | pathlib.Path | None = None
) -> PipelineConfig:
    """Read and validate a dataset YAML file; relative paths in it start from `base_dir`, by
    default from the project the file belongs to (`project_root_of`)."""
    path = pathlib.Path(path)
    if not path.is_absolute() and not path.exists():  # the default config, run from elsewhere
        raise ConfigError(
            f"{path}: config file not found under {pathlib.Path.cwd()} (run tfxp from the "
            "repository root, or give --config with the file's path)"
        )
    raw = read_yaml(path, "config file")
    return config_from_dict(raw, source=str(path), base_dir=base_dir, config_file=path)


def config_from_dict(
    raw: Any,
    source: str = "<config>",
    base_dir: str | pathlib.Path | None = None,
    config_file: pathlib.Path | None = None,
) -> PipelineConfig:
    """Validate an already-parsed config mapping (tests build these directly). Relative paths
    start from `base_dir`, else from `config_file`'s project, else from the working directory."""
    from_project = base_dir is None and config_file is not None  # not the working folder
    if base_dir is None:
        base_dir = project_root_of(config_file) if config_file else pathlib.Path.cwd()
    base = pathlib.Path(base_dir).resolve()
    top = Reader(raw, "", source)

    def path_of(reader: Reader, name: str) -> pathlib.Path:
        value = reader.get(name, str)
        if not value.strip():
            raise reader.fail(name, "must be a non-empty path")
        return (base / value).resolve()

    name = top.get("name", str)
    if not name.replace("_", "").replace("-", "").isalnum():
        raise top.fail("name", f"must be letters, digits, '-' or '_', got {name!r}")
    if len(name) > MAX_NAME_LENGTH:  # TFX refuses longer pipeline names when the run starts
        raise top.fail(
            "name", f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}: {name!r}"
        )

    data = top.child("data")
    data_root = path_of(data, "root")
    span = data.get("span", (str, int), "latest")
    if span != "latest" and (isinstance(span, (str, bool)) or span < 1):
        raise data.fail("span", f"must be 'latest' or a span number >= 1, got {span!r}")
    window = data.positive("window", int, 1)
    serving_root = path_of(data, "serving_root") if "serving_root" in data.raw else None
    na_values = data.get("na_values", list, list(NA_VALUES))
    if not all(isinstance(token, str) for token in na_values):
        raise data.fail(
            "na_values",
            f"must be a list of strings, got {na_values!r} (quote null, true or 1: YAML "
            "reads them as other things)",
        )
    data.done()

    model = _model(top)
    split = top.child("split")
    if sorted(split.raw) != sorted(SPLIT_ORDER):
        raise top.fail("split", f"must name exactly 'train' and 'eval', got {list(split.raw)}")
    # TFX gives each split the next range of hashes in the order its output config lists them:
    # a fixed order, so that listing eval first in the YAML cannot move rows between splits.
    buckets = tuple((split_name, split.positive(split_name, int)) for split_name in SPLIT_ORDER)
    split.done()

    validation = _validation(top.child("validation"))

    evaluation = _evaluation(top.child("evaluation"), model.label.kind)

    outputs = top.child("outputs")
    pipeline_root = path_of(outputs, "pipeline_root")
    metadata_path = path_of(outputs, "metadata")
    serving_dir = path_of(outputs, "serving_dir")
    outputs.done()
    if from_project:
        _no_store_left_behind(outputs.get("metadata", str), metadata_path, source)

    beam_reader = top.child("beam")
    beam = Beam(
        runner=beam_reader.get("runner", str),
        direct_running_mode=beam_reader.get("direct_running_mode", str, "in_memory"),
        direct_num_workers=beam_reader.positive("direct_num_workers", int, 1),
    )
    beam_reader.done()
    if beam.runner not in LOCAL_BEAM_RUNNERS:
        raise beam_reader.fail(
            "runner",
            f"must be one of {LOCAL_BEAM_RUNNERS} for a local run, got {beam.runner!r} "
            "(Beam 2.74's DirectRunner tries to download the Prism binary at run time)",
        )
    if beam.direct_running_mode not in ("in_memory", "multi_threading", "multi_processing"):
        raise beam_reader.fail("direct_running_mode", f"unknown mode {beam.direct_running_mode!r}")

    schema_file = path_of(top, "schema")
    monitoring = _monitoring(top.child("monitoring", {}))
    top.done()
    return PipelineConfig(
        name=name,
        config_file=(config_file or pathlib.Path(source)).resolve(),
        data_root=data_root,
        span=None if span == "latest" else span,
        window=window,
        serving_root=serving_root,
        schema_file=schema_file,
        model=model,
        split_buckets=buckets,
        na_values=tuple(na_values),
        validation=dataclasses.replace(
            validation,
            split_shares=tuple((n, b / sum(c for _, c in buckets)) for n, b in buckets),
        ),
        evaluation=evaluation,
        pipeline_root=pipeline_root,
        metadata_path=metadata_path,
        serving_dir=serving_dir,
        beam=beam,
        monitoring=monitoring,
    )


def with_overrides(
    config: PipelineConfig, span: int | None = None, allow: Sequence[str] = ()
) -> PipelineConfig:
    """The config with a run's command-line choices: another span, more accepted findings."""
    if span is not None and span < 1:
        raise ConfigError(f"--span must be a span number >= 1, got {span}")
    allowed = tuple(
        dict.fromkeys(config.validation.allow + tuple(_allow_entry(a, "--allow") for a in allow))
    )
    return dataclasses.replace(
        config,
        span=config.span if span is None else span,
        validation=dataclasses.replace(config.validation, allow=allowed),
    )


def _allow_entry(entry: Any, where: str) -> str:
    kind, _, feature = entry.partition(":") if isinstance(entry, str) else ("", "", "")
    if not feature or kind not in KINDS:
        near = sorted(k for k in KINDS if kind and (kind in k or k in kind))[:3]
        hint = (
            f" (did you mean {', '.join(near)}?)"
            if near
            else " (kinds: see `tfxp run` gate reports)"
        )
        raise ConfigError(
            f"{where}: {entry!r} must be KIND:FEATURE with a known anomaly kind{hint}"
        )
    return entry


def _validation(reader: Reader) -> Validation:
    label = reader.child("label", {})
    rates = {}
    for name, default in (
        ("max_missing_rate", 0.0),
        ("max_rate_change", 0.1),
        ("max_split_gap", 0.05),
    ):
        value = label.get(name, float, default)
        if not 0 <= value <= 1:
            raise label.fail(name, f"must be within 0..1, got {value!r}")
        rates[name] = value
    label.done()
    allow = reader.get("allow", list, [])
    validation = Validation(
        min_examples_per_split=reader.positive("min_examples_per_split", int),
        label=LabelLimits(**rates),
        allow=tuple(
            _allow_entry(entry, f"{reader.source}: '{reader.key('allow')}[{i}]'")
            for i, entry in enumerate(allow)
        ),
    )
    reader.done()
    return validation


def _model(top: Reader) -> F.ModelConfig:
    raw_features = top.get("features", list)
    if not raw_features:
        raise top.fail("features", "must list at least one feature")
    features = []
    for index, raw in enumerate(raw_features):
        reader = Reader(raw, f"features[{index}]", top.source)
        kind = reader.get("kind", str)
        if kind not in F.FEATURE_KINDS:
            raise reader.fail("kind", f"must be one of {F.FEATURE_KINDS}, got {kind!r}")
        feature = F.Feature(
            name=reader.get("name", str),
            kind=kind,
            top_k=reader.positive("top_k", int, 1000) if kind == F.CATEGORICAL else 1000,
            oov_buckets=reader.positive("oov_buckets", int, 1) if kind == F.CATEGORICAL else 1,
            hash_buckets=reader.positive("hash_buckets", int, None)
            if kind == F.CATEGORICAL
            else None,
            buckets=reader.positive("buckets", int, 10) if kind == F.BUCKETIZED else 10,
        )
        reader.done()
        features.append(feature)
    names = [f.name for f in features]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise top.fail("features", f"lists {duplicates[0]!r} more than once")

    label_reader = top.child("label")
    kind = label_reader.get("kind", str, F.BINARY)
    if kind not in F.LABEL_KINDS:
        raise label_reader.fail("kind", f"must be one of {F.LABEL_KINDS}, got {kind!r}")
    if kind != F.BINARY:
        label = _numbered_label(label_reader, kind)
    else:
        label = _binary_label(label_reader)
    label_reader.done()
    if label.column in names:
        raise label_reader.fail(
            "column", f"{label.column!r} is also a feature: the model would see its own label"
        )
    if label.name in names:
        raise label_reader.fail("name", f"{label.name!r} clashes with a feature name")
    return F.ModelConfig(features=tuple(features), label=label, training=_training(top))


def _numbered_label(label_reader: Reader, kind: str) -> F.Label:
    """A multiclass or regression label: the column's own values, no rule."""
    for key in ("rule", "threshold", "of_column", "positive", "negative"):
        if key in label_reader.raw:
            raise label_reader.fail(key, f"only applies to `kind: {F.BINARY}` labels")
    classes: tuple[str, ...] = ()
    if kind == F.MULTICLASS:
        given = label_reader.get("classes", list, [])
        if not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in given):
            raise label_reader.fail("classes", f"must list text or integer values, got {given!r}")
        classes = tuple(str(c).strip() for c in given)
        if given and (len(set(classes)) != len(classes) or len(classes) < 2):
            raise label_reader.fail(
                "classes", f"must list at least two different values, got {given!r}"
            )
    elif "classes" in label_reader.raw:
        raise label_reader.fail("classes", f"only applies to `kind: {F.MULTICLASS}` labels")
    return F.Label(
        name=label_reader.get("name", str),
        column=label_reader.get("column", str),
        kind=kind,
        classes=classes,
    )


def _binary_label(label_reader: Reader) -> F.Label:
    positive = label_reader.get("positive", str, None)
    rule = label_reader.get("rule", str, F.EQUALS if positive is not None else F.AS_IS)
    if rule not in F.LABEL_RULES:
        raise label_reader.fail("rule", f"must be one of {F.LABEL_RULES}, got {rule!r}")
    if (rule == F.EQUALS) != (positive is not None):
        raise label_reader.fail(
            "positive",
            "names the value that means 1 in a text label column (rule 'equals'), and only that",
        )
    negative = label_reader.get("negative", str, None)
    if negative is not None and positive is None:
        raise label_reader.fail("negative", "only applies with `positive` (a text label)")
    label = F.Label(
        name=label_reader.get("name", str),
        column=label_reader.get("column", str),
        rule=rule,
        threshold=label_reader.get("threshold", float, 0.0),
        of_column=label_reader.get("of_column", str, None),
        positive=positive.strip() if positive is not None else None,  # cells are compared
        negative=negative.strip() if negative is not None else None,  # stripped too
    )
    if rule == F.GREATER_THAN_FRACTION_OF and not label.of_column:
        raise label_reader.fail("of_column", f"is required with rule {rule!r}")
    if rule != F.GREATER_THAN_FRACTION_OF and label.of_column:
        raise label_reader.fail("of_column", f"only applies to rule {F.GREATER_THAN_FRACTION_OF!r}")
    return label


def _training(top: Reader) -> F.TrainingParams:
    training_reader = top.child("training")
    hidden = training_reader.get("hidden_units", list, [64, 32])
    if not hidden or not all(
        isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden
    ):
        raise training_reader.fail(
            "hidden_units", f"must be a list of positive integers, got {hidden!r}"
        )
    learning_rate = training_reader.positive("learning_rate", float, 0.001)
    training = F.TrainingParams(
        train_steps=training_reader.positive("train_steps", int),
        eval_steps=training_reader.positive("eval_steps", int),
        batch_size=training_reader.positive("batch_size", int, 128),
        learning_rate=learning_rate,
        hidden_units=tuple(hidden),
        embedding_dim=training_reader.positive("embedding_dim", int, 8),
        seed=training_reader.get("seed", int, 42),
    )
    training_reader.done()
    return training


def _evaluation(reader: Reader, kind: str) -> Evaluation:
    slices: list[tuple[str, ...]] = [()]
    for index, entry in enumerate(reader.get("slices", list, [])):
        columns = (entry,) if isinstance(entry, str) else entry
        if not isinstance(columns, Sequence) or not all(isinstance(c, str) for c in columns):
            raise reader.fail(
                f"slices[{index}]", f"must be a column name or a list of them, got {entry!r}"
            )
        slices.append(tuple(columns))

    thresholds = []
    threshold_reader = reader.child("thresholds", DEFAULT_THRESHOLDS[kind])
    for metric in threshold_reader.raw:
        if metric not in METRICS[kind]:
            raise threshold_reader.fail(
                metric,
                f"is not a metric of a {kind} label (known: {', '.join(METRICS[kind])})",
            )
        bounds = threshold_reader.child(metric)
        threshold = Threshold(
            metric=metric,
            lower_bound=bounds.get("lower_bound", float, None),
            upper_bound=bounds.get("upper_bound", float, None),
            max_drop=bounds.get("max_drop", float, None),
        )
        bounds.done()
        if threshold.max_drop is not None and threshold.max_drop < 0:
            raise bounds.fail("max_drop", f"must be >= 0, got {threshold.max_drop}")
        if (
            threshold.lower_bound is None
            and threshold.upper_bound is None
            and threshold.max_drop is None
        ):
            raise threshold_reader.fail(metric, "needs lower_bound, upper_bound or max_drop")
        thresholds.append(threshold)
    threshold_reader.done()
    beats = reader.child("beats_baseline") if "beats_baseline" in reader.raw else None
    rules = BlessingRules(
        beats_baseline=_beats_baseline(beats, kind) if beats else None,
        slice_thresholds=_slice_thresholds(reader, tuple(slices), kind),
    )
    max_examples = reader.get("max_examples", (int, type(None)), MAX_EVAL_EXAMPLES)
    if max_examples is not None and (isinstance(max_examples, bool) or max_examples < 100):
        raise reader.fail(
            "max_examples",
            f"must be a whole number of at least 100, or null, got {max_examples!r}",
        )
    reader.done()
    if not any(t.lower_bound is not None or t.upper_bound is not None for t in thresholds):
        # TFX 1.16's Evaluator never blesses without a value threshold, and with no baseline
        # the change thresholds are skipped: the first model would be judged on nothing.
        raise reader.fail("thresholds", "must give at least one lower_bound or upper_bound")
    return Evaluation(
        slices=tuple(slices), thresholds=tuple(thresholds), rules=rules, max_examples=max_examples
    )


def _beats_baseline(reader: Reader, kind: str) -> BeatsBaseline:
    measured = BASELINE_METRICS[kind]
    metric = reader.get("metric", str, measured)
    if metric != measured:
        raise reader.fail(
            "metric",
            f"must be {measured} (what the quick baseline measures for a {kind} label), "
            f"got {metric!r}",
        )
    margin = reader.get("margin", float, 0.0)
    if not -1 <= margin <= 1:
        raise reader.fail("margin", f"must be within -1..1, got {margin!r}")
    reader.done()
    return BeatsBaseline(metric=metric, margin=margin)


def _slice_thresholds(
    reader: Reader, slices: tuple[tuple[str, ...], ...], kind: str
) -> tuple[SliceThreshold, ...]:
    """Each entry names one slice TFMA computes (its columns are a configured slice's, one
    column or a cross), a known metric and at least one bound."""
    found = []
    for index, raw in enumerate(reader.get("slice_thresholds", list, [])):
        entry = Reader(raw, reader.key(f"slice_thresholds[{index}]"), reader.source)
        where = entry.child("slice")
        items = []
        for column, value in where.raw.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise where.fail(column, f"must be a text or number value, got {value!r}")
            where.seen.add(column)
            items.append((str(column), value))
        columns = sorted(column for column, _ in items)
        configured = [sorted(s) for s in slices if s]
        if columns not in configured:
            known = ", ".join(" x ".join(s) for s in slices if s) or "none"
            raise entry.fail(
                "slice",
                f"must name the columns of one configured slice (evaluation.slices: {known}), "
                f"got {columns or 'none'}: TFMA computes only those",
            )
        metric = entry.get("metric", str)
        if metric not in METRICS[kind]:
            raise entry.fail(
                "metric",
                f"{metric!r} is not a metric of a {kind} label (known: {', '.join(METRICS[kind])})",
            )
        threshold = SliceThreshold(
            slice=tuple(sorted(items)),
            metric=metric,
            lower_bound=entry.get("lower_bound", float, None),
            upper_bound=entry.get("upper_bound", float, None),
            min_examples=entry.positive("min_examples", int, DEFAULT_MIN_EXAMPLES),
        )
        entry.done()
        if threshold.lower_bound is None and threshold.upper_bound is None:
            raise entry.fail("lower_bound", "or upper_bound is required")
        found.append(threshold)
    return tuple(found)


QUALITY_METRICS = ("auc", "precision", "recall")
_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: Any, where: str) -> int:
    """`90s`, `30m`, `1h`, `7d` (or a number of seconds) as seconds; `where` names the key."""
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    if isinstance(text, str) and len(text) > 1 and text[-1] in _DURATION:
        count = text[:-1]
        if count.isdigit() and int(count) > 0:
            return int(count) * _DURATION[text[-1]]
    raise ConfigError(f"{where} must be a duration like 90s, 30m, 1h or 7d, got {text!r}")


def _monitoring(reader: Reader) -> Monitoring:
    default = Monitoring()

    def rate(name: str, value_default: float) -> float:
        value = reader.get(name, float, value_default)
        if not 0 <= value <= 1:
            raise reader.fail(name, f"must be within 0..1, got {value!r}")
        return value

    window = reader.get("window", (str, int), "1h")
    floors_reader = reader.child("quality_floors", dict(default.quality_floors))
    floors = []
    for metric in floors_reader.raw:
        if metric not in QUALITY_METRICS:
            raise floors_reader.fail(metric, f"is not one of {', '.join(QUALITY_METRICS)}")
        value = floors_reader.get(metric, float)
        if not 0 <= value <= 1:
            raise floors_reader.fail(metric, f"must be within 0..1, got {value!r}")
        floors.append((metric, value))
    floors_reader.done()
    retrain = reader.child("retrain", {})
    triggers = retrain.get("triggers", list, list(default.retrain_on))
    unknown = [t for t in triggers if t not in RETRAIN_TRIGGERS]
    if unknown:
        raise retrain.fail("triggers", f"knows {', '.join(RETRAIN_TRIGGERS)}, got {unknown[0]!r}")
    monitoring = Monitoring(
        window_seconds=duration_seconds(window, f"{reader.source}: '{reader.key('window')}'"),
        min_rows=reader.positive("min_rows", int, default.min_rows),
        max_latency_p99_ms=reader.positive("max_latency_p99_ms", float, default.max_latency_p99_ms),
        max_error_rate=rate("max_error_rate", default.max_error_rate),
        max_null_output_rate=rate("max_null_output_rate", default.max_null_output_rate),
        max_score_drift=rate("max_score_drift", default.max_score_drift),
        min_labels=reader.positive("min_labels", int, default.min_labels),
        quality_floors=tuple(floors),
        max_auc_drop=rate("max_auc_drop", default.max_auc_drop),
        max_candidate_drop=rate("max_candidate_drop", default.max_candidate_drop),
        rollback_canary=reader.get("rollback_canary", bool, default.rollback_canary),
        retrain_on=tuple(triggers),
        retrain_min_new_labels=retrain.positive(
            "min_new_labels", int, default.retrain_min_new_labels
        ),
    )
    retrain.done()
    reader.done()
    return monitoring
