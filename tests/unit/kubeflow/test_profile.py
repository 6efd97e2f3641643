"""Kubeflow profiles are validated field by field; every bundled profile loads."""

from __future__ import annotations

import pytest
import yaml

from kubeflow.profile import ProfileError, load_profile, profile_from_dict
from tests.conftest import ROOT

PROFILES = sorted((ROOT / "kubeflow" / "profiles").glob("*.yaml"))


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_bundled_profiles_load(path):
    profile = load_profile(path)
    assert profile.beam_args[0].startswith("--runner=")


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("image", "tfxp", "'image' must be a registry reference"),
        ("image", "registry.example.com/tfxp", "'image' must be a registry reference"),
        ("pipeline_root", "/tmp/root", "'pipeline_root' must be on object storage"),
        ("serving_dir", "outputs/serving", "'serving_dir' must be on object storage"),
        ("beam", {"runner": "DirectRunner"}, "'beam.runner' must be one of"),
        ("resources", {"cpu": "two"}, "'resources.cpu' is not a Kubernetes quantity"),
        ("resources", {"cpu": "2Gi"}, "'resources.cpu' is not a Kubernetes quantity"),
        ("resources", {"memory": "512m"}, "'resources.memory' is not a Kubernetes quantity"),
        ("enable_cache", "yes", "'enable_cache' must be bool"),
        ("colour", "blue", "unknown key 'colour'"),
    ],
)
def test_each_field_is_checked(key, value, message):
    raw = yaml.safe_load(PROFILES[0].read_text())
    raw[key] = value
    with pytest.raises(ProfileError, match=message):
        profile_from_dict(raw, "p.yaml")


def test_missing_profile_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match="profile not found"):
        load_profile(tmp_path / "nope.yaml")


def test_an_image_digest_is_not_mistaken_for_a_credential():
    raw = yaml.safe_load(PROFILES[0].read_text())
    digest = "registry.example.com/tfxp/tfxp@sha256:" + "a" * 64
    raw["image"] = digest
    raw["beam"]["options"]["sdk_container_image"] = digest
    assert profile_from_dict(raw, "p.yaml").image == digest
