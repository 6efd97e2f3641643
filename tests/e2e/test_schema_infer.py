"""`tfxp schema infer` proposes a candidate beside the curated schema and shows the difference."""

from __future__ import annotations

import shutil

from components.validation import SERVING, TRAINING
from pipeline.schema import read_schema
from tests.conftest import ROOT, small_config_dict, write_config, write_sample
from tests.e2e.conftest import run_cli


def test_candidate_is_written_beside_the_curated_schema_with_a_diff(tmp_path):
    data = write_sample(tmp_path / "data", 500)
    curated = tmp_path / "schema" / "schema.pbtxt"
    curated.parent.mkdir()
    shutil.copy(ROOT / "schema" / "taxi" / "schema.pbtxt", curated)
    raw = small_config_dict(tmp_path, data.parent.parent)
    raw["schema"] = str(curated)
    config = write_config(raw, tmp_path / "c.yaml")

    code, out, _ = run_cli("schema", "infer", "--config", str(config))

    assert code == 0
    candidate = read_schema(tmp_path / "schema" / "schema.candidate.pbtxt")
    assert list(candidate.default_environment) == [TRAINING, SERVING]
    tips = next(f for f in candidate.feature if f.name == "tips")
    assert list(tips.not_in_environment) == [SERVING]
    # The hand curation shows up as what inference would undo.
    assert "-  lifecycle_stage: DEPRECATED" in out
    assert "-    min_domain_mass: 0.98" in out
    assert curated.read_text() == (ROOT / "schema" / "taxi" / "schema.pbtxt").read_text()
