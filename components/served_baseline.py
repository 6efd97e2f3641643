"""The baseline on Kubeflow: the newest version in this pipeline's serving folder.

Locally the Evaluator's baseline is TFX's latest-blessed-model resolver over ML Metadata. On
Kubeflow that resolver cannot run (open-source KFP) or is not limited to this pipeline (Vertex
queries every pipeline's blessed models in the project). The serving folder is this pipeline's
own, and only blessed models reach it (BlessedPusher), so its newest version is the latest
blessed model that is not a duplicate of one already served: the model a new one must beat.
With no version yet, the Evaluator (`components/evaluator.py`) judges without a baseline.
"""

import os

from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import io_utils, path_utils

from components.pusher import served_versions
from metadata import names


@component
def ServedModel(
    model: OutputArtifact[standard_artifacts.Model], serving_dir: Parameter[str]
) -> None:
    """Copy the newest served version into `model` as a Trainer's Model is laid out; with no
    version yet, leave `model` empty and mark it, so the Evaluator judges without a baseline."""
    versions = served_versions(serving_dir)
    if not versions:
        model.set_int_custom_property(names.SERVING_VERSION, 0)
        return
    io_utils.copy_dir(
        os.path.join(serving_dir, str(versions[-1])), path_utils.serving_model_dir(model.uri)
    )
    model.set_int_custom_property(names.SERVING_VERSION, versions[-1])
    model.set_string_custom_property(names.PUSHED_DESTINATION, serving_dir)
