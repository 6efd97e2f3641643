"""RuledEvaluator: TFX's Evaluator, then our blessing rules (`blessing_rules.py`), in one step.

Used by both placements (local and Kubeflow), so a model is blessed by the same rules wherever
it runs. TFMA evaluates and blesses as TFX 1.16's executor does; then the rules are judged on
the metrics TFMA wrote and on the Trainer's quick baseline (its ModelRun, an extra input), their
verdicts written beside TFMA's files (`metadata.evaluation.RULE_CHECKS_FILE`), and a failed rule
turns a blessing into a non-blessing exactly as TFX writes one: the `NOT_BLESSED` file in place
of `BLESSED`, and the `blessed` custom property 0, which `LatestBlessedModelStrategy` and
`BlessedPusher` read.

On Kubeflow the baseline model may be an empty ServedModel (no version served yet,
`served_baseline.py`): then TFMA judges without one.
"""

from __future__ import annotations

import copy
import os

import tensorflow_model_analysis as tfma
from tfx import types
from tfx.components.evaluator import constants
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter, ExecutionParameter
from tfx.utils import io_utils, json_utils

from components import eval_sample
from components.blessing_rules import BlessingRules, judge
from metadata import names
from metadata.evaluation import FAILED, RULE_CHECKS_FILE, rule_checks_json, slice_metrics
from models import quick_baseline

MODEL_RUN_KEY = "model_run"  # the Trainer's ModelRun: where its quick baseline is
BLESSING_RULES_KEY = "blessing_rules"  # BlessingRules as JSON
MAX_EXAMPLES_KEY = "max_examples"  # eval rows judged at most: a deterministic sample above
EVAL_SPLIT = "eval"  # what TFX's Evaluator judges when its example_splits are unset


class RuledEvaluatorSpec(standard_component_specs.EvaluatorSpec):
    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        BLESSING_RULES_KEY: ExecutionParameter(type=str, optional=True),
        # Our metrics' and rules' code: a change to it re-evaluates (the cache key).
        "code_sha256": ExecutionParameter(type=str, optional=True),
        MAX_EXAMPLES_KEY: ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {
        **standard_component_specs.EvaluatorSpec.INPUTS,
        MODEL_RUN_KEY: ChannelParameter(type=standard_artifacts.ModelRun, optional=True),
    }


def withhold_blessing(blessing) -> None:
    """Make a ModelBlessing say "not blessed", as TFX's Evaluator writes one."""
    blessed = os.path.join(blessing.uri, constants.BLESSED_FILE_NAME)
    if fileio.exists(blessed):
        fileio.remove(blessed)
    io_utils.write_string_file(os.path.join(blessing.uri, constants.NOT_BLESSED_FILE_NAME), "")
    blessing.set_int_custom_property(
        constants.ARTIFACT_PROPERTY_BLESSED_KEY, constants.NOT_BLESSED_VALUE
    )


def _quick_baseline(model_runs) -> dict | None:
    """The Trainer's quick baseline against ours, None when it wrote none."""
    return quick_baseline.load(model_runs[0].uri) if model_runs else None


class _Executor(evaluator_executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        key = standard_component_specs.BASELINE_MODEL_KEY
        baseline = input_dict.get(key) or []
        if baseline and all(  # an empty ServedModel (Kubeflow's first run): no baseline
            m.has_custom_property(names.SERVING_VERSION)
            and m.get_int_custom_property(names.SERVING_VERSION) == 0
            for m in baseline
        ):
            input_dict = {k: v for k, v in input_dict.items() if k != key}
        evaluation_uri = output_dict[standard_component_specs.EVALUATION_KEY][0].uri
        max_rows = exec_properties.get(MAX_EXAMPLES_KEY)
        sample_dir = os.path.join(evaluation_uri, "eval_sample")
        examples = input_dict[standard_component_specs.EXAMPLES_KEY][0]
        split_dir = artifact_utils.get_split_uri([examples], EVAL_SPLIT)
        try:  # the sample is removed whatever happens: nothing half-written stays behind
            rows, kept = eval_sample.sample_split(
                split_dir, os.path.join(sample_dir, f"Split-{EVAL_SPLIT}"), max_rows
            )
            if kept < rows:  # TFMA reads the sample as the Examples' eval split
                sampled = copy.deepcopy(examples)
                sampled.uri = sample_dir
                sampled.split_names = artifact_utils.encode_split_names([EVAL_SPLIT])
                input_dict = {**input_dict, standard_component_specs.EXAMPLES_KEY: [sampled]}
            super().Do(input_dict, output_dict, exec_properties)
        finally:
            if fileio.exists(sample_dir):
                fileio.rmtree(sample_dir)
        eval_sample.write_note(evaluation_uri, rows, kept, max_rows)

        rules = BlessingRules.from_json(exec_properties.get(BLESSING_RULES_KEY) or "{}")
        checks = judge(
            rules,
            slice_metrics(evaluation_uri),
            _quick_baseline(input_dict.get(MODEL_RUN_KEY)),
            sampled=kept < rows,
        )
        io_utils.write_string_file(
            os.path.join(evaluation_uri, RULE_CHECKS_FILE), rule_checks_json(checks)
        )
        blessing = output_dict[standard_component_specs.BLESSING_KEY][0]
        if any(c.verdict == FAILED for c in checks):
            withhold_blessing(blessing)


class RuledEvaluator(base_beam_component.BaseBeamComponent):
    """TFX's Evaluator (its spec, executor and outputs) with our blessing rules and the
    Trainer's ModelRun as inputs. TFX's `Evaluator.__init__` builds its own spec class, so this
    builds the spec it would, plus the two."""

    SPEC_CLASS = RuledEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(_Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        model: types.BaseChannel,
        eval_config: tfma.EvalConfig,
        baseline_model: types.BaseChannel | None = None,
        model_run: types.BaseChannel | None = None,
        blessing_rules: BlessingRules | None = None,
        code_sha256: str | None = None,
        max_examples: int | None = None,
    ):
        super().__init__(
            spec=RuledEvaluatorSpec(
                examples=examples,
                model=model,
                baseline_model=baseline_model,
                model_run=model_run,
                eval_config=eval_config,
                # As TFX's Evaluator passes them unset: the 'eval' split, no fairness metrics.
                example_splits=json_utils.dumps(None),
                fairness_indicator_thresholds=json_utils.dumps(None),
                blessing_rules=(blessing_rules or BlessingRules()).to_json(),
                code_sha256=code_sha256,
                max_examples=max_examples,
                evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
                blessing=types.Channel(type=standard_artifacts.ModelBlessing),
            )
        )
