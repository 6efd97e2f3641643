"""Beam's flags for every Beam-based component, built by one function for the local run and for
each Kubeflow profile: the two placements differ only in what their configs say."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping

# Flags that tell Beam where workers find this project's code. Without any of them, TFX 1.16
# builds an sdist of TFX itself in every Beam executor (~7 s per component, per run), even for
# a runner inside the process (tfx.utils.dependency_utils.make_beam_dependency_flags).
DEPENDENCY_FLAGS = (
    "extra_packages",
    "setup_file",
    "requirements_file",
    "worker_harness_container_image",
    "sdk_container_image",
)


def beam_args(
    runner: str,
    options: Mapping[str, object],
    *,
    setup_file: pathlib.Path | None = None,
    image: str | None = None,
) -> list[str]:
    """`--runner` first, the options in name order, then how workers get this project's code
    unless an option already says: the setup file (a local run, where in-process runners
    ignore it) or the task image, which holds the project (Kubeflow: Dataflow's workers run it;
    Flink's and Spark's external workers and an in-pod runner ignore it)."""
    if (setup_file is None) == (image is None):
        raise ValueError("give the setup file (local) or the image (Kubeflow), not both")
    args = [f"--runner={runner}"] + [f"--{key}={options[key]}" for key in sorted(options)]
    if not any(key in options for key in DEPENDENCY_FLAGS):
        args.append(
            f"--setup_file={setup_file}" if setup_file else f"--sdk_container_image={image}"
        )
    return args
