"""Names under which the pipeline's runs, steps and facts are recorded in ML Metadata.

Writers (the pipeline definition, our components) and readers (this package) use these, so a
rename is one edit. Values that TFX chooses are marked as such, with the TFX version.
"""

# Context types TFX's orchestrators create (TFX 1.16); a node context is "<pipeline>.<node>".
PIPELINE = "pipeline"
PIPELINE_RUN = "pipeline_run"
NODE = "node"

# What Kubeflow Pipelines' v2 driver and launcher record instead (kubeflow/pipelines
# backend/src/v2/metadata/client.go, KFP 2.x): no node contexts; each task is an execution of a
# generic type carrying its task name; the run's parameters sit on the root DAG execution.
KFP_PIPELINE = "system.Pipeline"
KFP_PIPELINE_RUN = "system.PipelineRun"
KFP_DAG_EXECUTION = "system.DAGExecution"
KFP_ROOT_DAG_PREFIX = "run/"  # the root DAG execution is named "run/<run id>"
KFP_TASK_NAME = "task_name"  # on each task's execution
KFP_INPUTS = "inputs"  # the parameter values an execution got, a struct
KFP_POD_UID = "pod_uid"  # on each container execution: the pod that ran it
KFP_POD_UID_ENV = "KFP_POD_UID"  # ... which the pod sees in this variable
KFP_TFX_TYPE_PREFIX = "tfx."  # artifact types are the spec's schema titles: "tfx.Examples"
KFP_CUSTOM_PREFIX = "custom:"  # TFX's entrypoint: a custom property named like a property

# Node ids of the pipeline definition.
EXAMPLE_GEN = "CsvExampleGen"  # ingests one span
SCHEMA_IMPORTER = "CuratedSchemaImporter"
STATISTICS_GEN = "StatisticsGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
GATE = "ExampleGate"
TRANSFORM = "Transform"
TRAINER = "Trainer"
EVALUATOR = "Evaluator"
PUSHER = "BlessedPusher"
SERVING_EXAMPLE_GEN = "ServingExampleGen"
SERVING_STATISTICS_GEN = "ServingStatisticsGen"
PREVIOUS_SPAN_RESOLVER = "previous_accepted_span_resolver"
SPAN_WINDOW_RESOLVER = "accepted_span_window_resolver"
BASELINE_MODEL_RESOLVER = "latest_blessed_model_resolver"
# On Kubeflow, in place of the resolvers (components/span_records.py, served_baseline.py)
SPAN_WINDOW = "SpanWindow"
SERVED_MODEL = "ServedModel"


def is_resolver(node: str) -> bool:
    """Resolvers pick inputs and produce nothing: run listings leave them out."""
    return node.endswith("resolver")


# Artifact types (TFX's standard ones, and ours).
EXAMPLES = "Examples"
STATISTICS = "ExampleStatistics"
SCHEMA = "Schema"
MODEL = "Model"
MODEL_EVALUATION = "ModelEvaluation"
MODEL_RUN = "ModelRun"  # the Trainer's own files: its log, the quick baseline's result
MODEL_BLESSING = "ModelBlessing"
PUSHED_MODEL = "PushedModel"
ACCEPTED_SPAN = "tfxp.AcceptedSpan"  # module.Class: Kubeflow's entrypoint imports it by name

# The gate's execution type: TFX names a decorated component after its module and function.
GATE_EXECUTION_TYPE = "components.example_gate.ExampleGate"

# Custom properties.
SPAN = "span"  # on Examples (ExampleGen, TFX 1.16) and AcceptedSpan
SPLIT_NAMES = "split_names"
BLESSED = "blessed"  # on ModelBlessing, 1 or 0 (TFX)
CURRENT_MODEL_URI = "current_model"  # on ModelBlessing (TFX): the judged model's URI
PUSHED = "pushed"  # on PushedModel, 1 or 0
PUSHED_VERSION = "pushed_version"
PUSHED_DESTINATION = "pushed_destination"
ALREADY_SERVING_VERSION = "already_serving_version"  # blessed, identical to the newest version
LABEL_POSITIVE_RATE = "label_positive_rate"  # on AcceptedSpan, train split
SERVING_VERSION = "serving_version"  # on ServedModel's Model (Kubeflow): the version, 0 for none
WINDOW_SPANS = "window_spans"  # on SpanWindow's Examples (Kubeflow): its spans, a JSON list
ALLOWED = "allowed"  # on AcceptedSpan: the allow entries that let findings through (JSON list)
FINDINGS_ALLOWED = "findings_allowed"
ABANDONED = "tfxp_abandoned"  # on an execution a dead run left running, closed by the next run
SERVED_STATE = "served_state"  # BlessedPusher's parameter: the serving folder's versions
OLDER_THAN_SERVED = "older_than_served_span"  # on PushedModel: blessed, kept out, older data
SCHEMA_SOURCE_FILE = "source_file"  # on the curated Schema artifact

# A run's facts (config, hashes, git revisions) on its pipeline_run context, each prefixed.
RUN_FACT_PREFIX = "tfxp_"
# On Kubeflow, the run parameter that carries them as JSON (kubeflow/compile.py, submit.py).
PROVENANCE_PARAMETER = "provenance"

# Where the gate writes its report beside its outputs (TFX deletes a failed execution's), and
# the verdict the report states.
GATE_REPORTS = "reports"
GATE_REPORT_FILE = "report.json"  # also inside each AcceptedSpan
GATE_VERDICT = "verdict"
GATE_ACCEPTED = "accepted"
GATE_STOPPED = "stopped"

# A rollout step (`tfxp deploy`, `promote`, `rollback`): an execution of this type reading the
# PushedModel it concerns, attributed to the pipeline's context, with these properties.
DEPLOYMENT = "tfxp.Deployment"
DEPLOYMENT_ACTION = "action"  # deploy, promote, rollback
DEPLOYMENT_VERSION = "version"
DEPLOYMENT_MODE = "mode"  # live, shadow, canary, blue-green
DEPLOYMENT_PERCENT = "percent"
DEPLOYMENT_WHO = "who"
DEPLOYMENT_WHY = "why"

# TFX's launcher (1.16): an execution's private working folder is
# <pipeline_root>/<node>/.system/stateful_working_dir/<this property's value>.
STATEFUL_DIR_INDEX = "__stateful_working_dir_index__"

# Files TFX components write inside their artifacts (TFX 1.16).
STATISTICS_FILE = "FeatureStats.pb"  # StatisticsGen, one per split folder
SCHEMA_FILE = "schema.pbtxt"  # SchemaGen, ImportSchemaGen and our CuratedSchemaImporter

# A `tfxp monitor` pass over one served version's traffic: an execution of this type reading
# the version's PushedModel, attributed to the pipeline's context, with these properties.
MONITORING = "tfxp.Monitoring"
MONITORING_SINCE = "since"  # the range, ISO 8601 moments
MONITORING_UNTIL = "until"
MONITORING_PREDICTIONS = "predictions"
MONITORING_LABELS = "labels"
MONITORING_FINDINGS = "findings"  # a JSON list of one-line findings
MONITORING_PAGE = "page"  # the HTML page written with it
