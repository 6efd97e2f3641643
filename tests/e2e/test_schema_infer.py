"""`tfxp schema infer` proposes a candidate beside the curated schema and shows the difference."""

from __future__ import annotations

import random
import shutil

from cli.exits import EXIT_FINDINGS
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
    # The hand curation shows up as what inference would undo, feature by feature.
    assert "  ~ pickup_census_tract: lifecycle DEPRECATED -> UNKNOWN_STAGE" in out
    assert "  ~ company: min domain mass 0.98 -> 1" in out
    # One span's two halves cannot show that time moves on (the bundled years do): proposed.
    assert "  ~ trip_start_timestamp: drift and skew no comparator -> Jensen-Shannon" in out
    assert curated.read_text() == (ROOT / "schema" / "taxi" / "schema.pbtxt").read_text()


def _churn_rows(rows: int, seed: int, income_scale: float = 1.0) -> str:
    """A dataset this project has never seen: customers, their plan and whether they left."""
    rng = random.Random(seed)
    lines = ["age,income,plan,churned"]
    for _ in range(rows):
        age = rng.gauss(40, 12)
        plan = rng.choice(["basic", "pro", "team"])
        income = rng.lognormvariate(10.5, 0.4) * income_scale
        leaves = rng.random() < (0.5 if plan == "basic" else 0.2) * (1.3 if age < 30 else 1.0)
        lines.append(f"{age:.1f},{income:.0f},{plan},{int(leaves)}")
    return "\n".join(lines) + "\n"


def test_a_new_datasets_inferred_schema_gets_comparators_that_stop_its_drifted_span(tmp_path):
    """Adding a dataset as the README says: its inferred candidate, taken as the curated
    schema, measures drift on every feature, and a span with incomes x100 is stopped."""
    data = tmp_path / "data"
    for span in (1, 2):
        (data / f"span-{span}").mkdir(parents=True)
        (data / f"span-{span}" / "data.csv").write_text(_churn_rows(600, seed=span))
    raw = small_config_dict(tmp_path, data)
    raw.update(
        name="churn",
        schema=str(tmp_path / "schema" / "schema.pbtxt"),
        label={"name": "churned", "column": "churned"},
        features=[
            {"name": "age", "kind": "numeric"},
            {"name": "income", "kind": "numeric"},
            {"name": "plan", "kind": "categorical", "top_k": 10, "oov_buckets": 1},
        ],
        validation={"min_examples_per_split": 50},
    )
    raw["evaluation"] = {"slices": ["plan"], "thresholds": {"auc": {"lower_bound": 0.5}}}
    config = write_config(raw, tmp_path / "churn.yaml")

    code, out, err = run_cli("schema", "infer", "--config", str(config))
    assert code == 0, err
    for feature in ("age", "income", "plan", "churned"):
        assert f"  + {feature}: new, " in out and "comparator" not in out.split(feature)[1][:60]
    candidate = tmp_path / "schema" / "schema.candidate.pbtxt"
    assert "# income: drift and skew by Jensen-Shannon divergence, threshold " in (
        candidate.read_text()
    )
    shutil.copy(candidate, tmp_path / "schema" / "schema.pbtxt")  # reviewed and accepted

    (data / "span-3").mkdir()
    (data / "span-3" / "data.csv").write_text(_churn_rows(600, seed=3, income_scale=100))
    code, out, err = run_cli("run", "--backfill", "--config", str(config))
    assert code == EXIT_FINDINGS, out + err
    assert "income" in err and "JENSEN_SHANNON_DIVERGENCE_HIGH" in err
    assert "plan" not in err.split("verdict: STOPPED", 1)[-1]  # the plans did not move
