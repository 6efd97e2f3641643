"""The local run and every Kubeflow profile get their Beam flags from one function: the runner
first, the options in name order, and where workers find this project's code, so TFX never
builds an sdist of itself inside a task."""

from __future__ import annotations

import pytest
from tfx.utils import dependency_utils

from kubeflow.profile import load_profile
from pipeline.beam_options import beam_args
from pipeline.config import load_config
from pipeline.local_runner import SETUP_FILE
from tests.conftest import ROOT

IMAGE = "us-docker.pkg.dev/my-project/tfxp/tfxp:0.1.0"

EXPECTED = {
    "gcp-example": [
        "--runner=DataflowRunner",
        "--project=my-project",
        "--region=us-central1",
        f"--sdk_container_image={IMAGE}",
        "--temp_location=gs://my-bucket/tfxp/tmp",
    ],
    "minio-example": [
        "--runner=PortableRunner",
        "--environment_config=localhost:50000",
        "--environment_type=EXTERNAL",
        "--job_endpoint=flink-jobserver.kubeflow:8099",
        "--s3_endpoint_url=http://minio-service.kubeflow:9000",
        "--sdk_container_image=registry.example.com/tfxp/tfxp:0.1.0",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bundled_profile_yields_its_runner_options_and_image(name):
    profile = load_profile(ROOT / "kubeflow" / "profiles" / f"{name}.yaml")
    assert profile.beam_args == EXPECTED[name]


def test_the_local_run_yields_the_in_process_runner_and_the_setup_file():
    config = load_config(ROOT / "pipeline" / "configs" / "taxi.yaml")
    assert config.beam.args(SETUP_FILE) == [
        "--runner=FnApiRunner",
        "--direct_num_workers=1",
        "--direct_running_mode=in_memory",
        f"--setup_file={SETUP_FILE}",
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tfx_finds_the_code_in_the_flags_and_builds_no_package(name, monkeypatch):
    def no_sdist():
        raise AssertionError("TFX would build an sdist of itself in this task")

    monkeypatch.setattr(dependency_utils, "build_ephemeral_package", no_sdist)
    args = load_profile(ROOT / "kubeflow" / "profiles" / f"{name}.yaml").beam_args
    assert dependency_utils.make_beam_dependency_flags(args) == args


def test_an_option_naming_the_code_itself_is_kept_and_not_doubled():
    args = beam_args("FnApiRunner", {"extra_packages": "dist/tfxp.tar.gz"}, image=IMAGE)
    assert args == ["--runner=FnApiRunner", "--extra_packages=dist/tfxp.tar.gz"]
