"""The Kubeflow compile: the same pipeline as the local run, portable, deterministic, no secrets."""

from __future__ import annotations

import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from kubeflow.compile import (
    PortabilityError,
    compile_pipeline,
    kubeflow_placement,
    portability_problems,
)
from kubeflow.profile import ProfileError, load_profile, profile_from_dict
from pipeline.config import load_config
from pipeline.definition import build_pipeline
from pipeline.local_runner import local_placement
from tests.conftest import ROOT, TAXI_CONFIG

PROFILE = ROOT / "kubeflow" / "profiles" / "gcp-example.yaml"


@pytest.fixture(scope="module")
def config():
    return load_config(TAXI_CONFIG, base_dir=ROOT)


@pytest.fixture(scope="module")
def profile():
    return load_profile(PROFILE)


@pytest.fixture(scope="module")
def compiled(config, profile, tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    (path,) = compile_pipeline(config, profile, out)
    return json.loads(path.read_text()), path


def test_spec_parses_as_a_kfp_pipeline_job(compiled):
    doc, _ = compiled
    job = json_format.ParseDict(doc, pipeline_spec_pb2.PipelineJob())
    spec = json_format.ParseDict(doc["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    assert job.display_name == "taxi"
    assert spec.schema_version == "2.1.0"


LOCAL_ONLY = {
    "previous_accepted_span_resolver",
    "accepted_span_window_resolver",
    "latest_blessed_model_resolver",
}
KUBEFLOW_ONLY = {"SpanWindow", "ServedModel"}


def test_kubeflow_runs_the_local_chain_with_tasks_in_place_of_the_resolvers(config, profile):
    """Resolvers read ML Metadata in-process; on Kubeflow the window and the baseline are
    tasks that read what the gate and the pusher keep on storage."""
    local = {c.id for c in build_pipeline(config, local_placement(config)).components}
    remote = build_pipeline(config, kubeflow_placement(config, profile))
    remote_ids = {c.id for c in remote.components}
    assert local - remote_ids == LOCAL_ONLY
    assert remote_ids - local == KUBEFLOW_ONLY
    transform = next(c for c in remote.components if c.id == "Transform")
    assert {u.id for u in transform.upstream_nodes} == {
        "SpanWindow",
        "CuratedSchemaImporter",
        "ExampleGate",
    }


def test_every_container_runs_the_profile_image(compiled, profile):
    doc, _ = compiled
    executors = doc["pipelineSpec"]["deploymentSpec"]["executors"]
    images = {e["container"]["image"] for e in executors.values() if "container" in e}
    assert images == {profile.image}
    containers = [e["container"] for e in executors.values() if "container" in e]
    assert all(c["resources"] == {"cpuLimit": 2.0, "memoryLimit": 8.589935} for c in containers)


def test_the_profile_pipeline_root_is_the_spec_default(compiled, profile):
    doc, _ = compiled
    assert doc["pipelineSpec"]["defaultPipelineRoot"] == profile.pipeline_root


def test_runtime_parameters_are_declared_with_their_defaults(compiled, profile, config):
    doc, _ = compiled
    declared = doc["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    assert declared["data_root"]["defaultValue"] == profile.data_root
    steps = config.model.training.train_steps
    assert json.loads(declared["train_args"]["defaultValue"]) == {"num_steps": steps}
    assert doc["runtimeConfig"]["parameterValues"] == {
        k: v["defaultValue"] for k, v in declared.items()
    }
    assert declared["range_config"]["defaultValue"] == ""  # the newest span
    example_gen = doc["pipelineSpec"]["root"]["dag"]["tasks"]["CsvExampleGen"]
    assert example_gen["inputs"]["parameters"]["input_base"] == {
        "componentInputParameter": "data_root"
    }
    assert example_gen["inputs"]["parameters"]["range_config"] == {
        "componentInputParameter": "range_config"
    }


def test_the_evaluator_task_judges_the_same_rules_with_the_trainers_model_run(compiled, config):
    """One Evaluator for both placements: on Kubeflow too it reads the Trainer's quick
    baseline and carries the config's blessing rules."""
    doc, _ = compiled
    evaluator = doc["pipelineSpec"]["root"]["dag"]["tasks"]["Evaluator"]["inputs"]
    assert evaluator["artifacts"]["model_run"]["taskOutputArtifact"] == {
        "outputArtifactKey": "model_run",
        "producerTask": "Trainer",
    }
    rules = evaluator["parameters"]["blessing_rules"]["runtimeValue"]["constant"]
    assert rules == config.evaluation.rules.to_json()
    executor = _executors(doc)["Evaluator_executor"]["container"]["args"]
    assert executor[executor.index("--executor_class_path") + 1] == (
        "components.evaluator._Executor"
    )


def _executors(spec: dict) -> dict:
    return spec["pipelineSpec"]["deploymentSpec"]["executors"]


def test_no_target_gets_a_resolver_task(config, profile, tmp_path):
    for target in ("vertex", "kfp"):
        (path,) = compile_pipeline(config, profile, tmp_path / target, target=target)
        executors = _executors(json.loads(path.read_text()))
        assert all("container" in e for e in executors.values()), target


def test_only_vertex_keeps_the_span_driver_hook(config, profile, tmp_path):
    """Vertex runs `lifecycle`; open-source KFP skips it, where our executor resolves the span."""
    hooks = {}
    for target in ("vertex", "kfp"):
        (path,) = compile_pipeline(config, profile, tmp_path / target, target=target)
        executors = _executors(json.loads(path.read_text()))
        hooks[target] = sorted(n for n, e in executors.items() if "lifecycle" in e["container"])
    assert hooks == {"vertex": ["CsvExampleGen_executor"], "kfp": []}


def test_kfp_refuses_a_resolver_task_and_a_lifecycle_hook_by_name():
    from kubeflow.compile import spec_problems

    spec = {
        "root": {"dag": {"tasks": {
            "baseline": {"componentRef": {"name": "c-baseline"}},
            "ingest": {"componentRef": {"name": "c-ingest"}},
        }}},
        "components": {
            "c-baseline": {"executorLabel": "e-baseline"},
            "c-ingest": {"executorLabel": "e-ingest"},
        },
        "deploymentSpec": {"executors": {
            "e-baseline": {"resolver": {}},
            "e-ingest": {"container": {"lifecycle": {"preCacheCheck": {}}}},
        }},
    }  # fmt: skip
    problems = spec_problems(spec, "kfp")
    assert [p.split(":")[0] for p in problems] == ["baseline", "ingest"]
    assert spec_problems(spec, "vertex") == []


def test_the_spec_is_the_same_bytes_from_two_checkouts(tmp_path):
    """No path of the machine that compiled it: a copy of the project elsewhere compiles the
    same bytes (the schema is named relative to the project)."""
    import shutil
    import subprocess
    import sys

    outputs = []
    for name in ("one", "two"):
        checkout = tmp_path / name / "tfxp"
        shutil.copytree(
            ROOT,
            checkout,
            ignore=shutil.ignore_patterns(".venv", ".git", "outputs", "build", "__pycache__"),
        )
        out = tmp_path / name / "build"
        subprocess.run(
            [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())",
             "compile", "--profile", str(PROFILE), "--output-dir", str(out)],
            cwd=checkout, check=True, capture_output=True,
            env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        outputs.append((out / "taxi.json").read_bytes())
    assert outputs[0] == outputs[1]
    assert str(tmp_path).encode() not in outputs[0]


def test_compiling_twice_gives_identical_bytes(config, profile, compiled, tmp_path):
    _, first = compiled
    (second,) = compile_pipeline(config, profile, tmp_path)
    assert second.read_bytes() == first.read_bytes()


def test_yaml_is_written_when_asked(config, profile, tmp_path):
    paths = compile_pipeline(config, profile, tmp_path, ("json", "yaml"))
    assert [p.name for p in paths] == ["taxi.json", "taxi.yaml"]
    spec = yaml.safe_load(paths[1].read_text())
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())


def test_rolling_window_resolver_is_refused_with_its_node(config, profile):
    from tfx.dsl.components.common.resolver import Resolver
    from tfx.dsl.input_resolution.strategies.span_range_strategy import SpanRangeStrategy
    from tfx.types import Channel, standard_artifacts

    pipeline = build_pipeline(config, kubeflow_placement(config, profile))
    window = Resolver(
        strategy_class=SpanRangeStrategy,
        config={"range_config": None},
        examples=Channel(type=standard_artifacts.Examples),
    ).with_id("last_3_spans")
    pipeline.components = pipeline.components + [window]
    (problem,) = portability_problems(pipeline)
    assert problem.startswith("last_3_spans: resolver strategy SpanRangeStrategy does not compile")


def test_relative_data_root_is_refused(config, profile, tmp_path):
    raw = yaml.safe_load(PROFILE.read_text())
    raw["data_root"] = "data/taxi"
    with pytest.raises(ProfileError, match="'data_root' must be on object storage"):
        profile_from_dict(raw, "p.yaml")
    local_root = profile.__class__(**{**profile.__dict__, "data_root": "data/taxi"})
    with pytest.raises(
        PortabilityError, match="CsvExampleGen: input_base 'data/taxi' is a local path"
    ):
        compile_pipeline(config, local_root, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_sqlite_metadata_in_a_profile_is_refused():
    raw = yaml.safe_load(PROFILE.read_text())
    raw["metadata"] = "outputs/metadata.sqlite"
    with pytest.raises(ProfileError, match="'metadata' is local-only"):
        profile_from_dict(raw, "p.yaml")


CANARY = "CANARY-7f3e9a-do-not-leak"


@pytest.mark.parametrize(
    "key, value",
    [
        ("beam.options.password", CANARY),
        ("beam.options.aws_secret_access_key", CANARY),
        ("beam.options.api_token", CANARY),
        ("beam.options.job_endpoint", f"https://admin:{CANARY}@flink.example.com"),
        ("beam.options.extra", f"AKIA{'X' * 16}"),
        ("beam.options.awsSecretAccessKey", CANARY),
        ("beam.options.azure_connection_string", f"AccountName=x;AccountKey={CANARY}"),
        (
            "beam.options.awsCredentialsProvider",
            f'{{"awsAccessKeyId": "m", "awsSecretKey": "{CANARY}"}}',
        ),
        ("beam.options.s3_endpoint", f"minio:{CANARY}@minio.kubeflow:9000"),
        ("beam.options.extra", f"ASIA{'Y' * 16}"),
        ("beam.options.db_pass", CANARY),
        ("beam.options.pwd", CANARY),
        ("beam.options.client_key", CANARY),
        ("beam.options.signing_key", CANARY),
        ("beam.options.hmac", CANARY),
        ("beam.options.sas", CANARY),
        ("beam.options.dbPass", CANARY),
        ("beam.options.extra_args", f"--pass={CANARY}"),
        ("beam.options.extra_args", f"--runner=Flink --password {CANARY}"),
        ("beam.options.extra_args", f"PGPASSWORD={CANARY}"),
    ],
)
def test_a_planted_secret_is_refused_and_appears_nowhere(config, tmp_path, key, value, capsys):
    from cli.exits import EXIT_USER_ERROR
    from cli.main import main

    raw = yaml.safe_load(PROFILE.read_text())
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[last] = value
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "build"

    code = main(
        ["compile", "--config", str(TAXI_CONFIG), "--profile", str(path), "--output-dir", str(out)]
    )

    captured = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    assert "looks like a credential" in captured.err and "Kubernetes secret" in captured.err
    assert value not in captured.err + captured.out
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert all(value.encode() not in p.read_bytes() for p in written)


def test_environment_secrets_never_reach_the_spec(config, profile, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", f"/secrets/{CANARY}.json")
    (path,) = compile_pipeline(config, profile, tmp_path)
    assert CANARY.encode() not in path.read_bytes()


def test_cli_compile_writes_the_spec(tmp_path, capsys):
    from cli.main import main

    code = main(
        [
            "compile",
            "--config",
            str(TAXI_CONFIG),
            "--profile",
            str(PROFILE),
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert (tmp_path / "taxi.json").exists()
    assert "wrote" in capsys.readouterr().out


def test_a_profile_with_serving_data_compiles_the_skew_check(config, profile, tmp_path):
    with_serving = profile.__class__(
        **{**profile.__dict__, "serving_data_root": "gs://my-bucket/tfxp/serving-requests"}
    )
    (path,) = compile_pipeline(config, with_serving, tmp_path)
    tasks = json.loads(path.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {"ServingExampleGen", "ServingStatisticsGen"} <= set(tasks)
    gate_inputs = tasks["ExampleGate"]["inputs"]["artifacts"]
    assert gate_inputs["serving_statistics"]["taskOutputArtifact"]["producerTask"] == (
        "ServingStatisticsGen"
    )


def test_serving_data_in_a_profile_must_be_on_object_storage():
    raw = yaml.safe_load(PROFILE.read_text())
    raw["serving_data_root"] = "/home/me/requests"
    with pytest.raises(ProfileError, match="'serving_data_root' must be on object storage"):
        profile_from_dict(raw)


def test_names_that_only_contain_a_short_secret_word_are_allowed():
    raw = yaml.safe_load(PROFILE.read_text())
    raw["beam"]["options"].update(
        {
            "bypass_cache": "true",
            "passes": 2,
            "compass": "n",
            "no_auth": "true",  # Beam's own options
            "gcp_oauth_scopes": "https://www.googleapis.com/auth/cloud-platform",
            "tls_cert_path": "/etc/ssl/ca.pem",
            "author": "team-ml",
            "extra_args": "--runner=Flink --parallelism 4 --passes 2",
        }
    )
    profile_from_dict(raw, "p.yaml")


SECRET_ENV = [
    {"env": "AWS_SECRET_ACCESS_KEY", "secret": "minio-creds", "key": "secretkey"},
    {"env": "AWS_ACCESS_KEY_ID", "secret": "minio-creds", "key": "accesskey"},
]


def test_kfp_pods_read_credentials_from_kubernetes_secrets_named_in_the_profile(config, tmp_path):
    raw = yaml.safe_load(PROFILE.read_text())
    raw.update(target="kfp", env_from_kubernetes_secrets=SECRET_ENV)
    profile = profile_from_dict(raw, "p.yaml")
    json_path, yaml_path = compile_pipeline(config, profile, tmp_path, ("json", "yaml"))
    platform = json.loads(json_path.read_text())["platformSpec"]
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    compiled = json.loads(json_path.read_text())["pipelineSpec"]["deploymentSpec"]["executors"]
    assert set(executors) == set(compiled)
    for executor in executors.values():
        assert executor["secretAsEnv"] == [
            {
                "secretName": "minio-creds",
                "keyToEnv": [
                    {"secretKey": "secretkey", "envVar": "AWS_SECRET_ACCESS_KEY"},
                    {"secretKey": "accesskey", "envVar": "AWS_ACCESS_KEY_ID"},
                ],
            }
        ]
    pipeline_doc, platform_doc = yaml.safe_load_all(yaml_path.read_text())
    assert platform_doc == platform and "root" in pipeline_doc


def test_vertex_refuses_kubernetes_secrets_and_says_what_to_do_instead(config, tmp_path):
    raw = yaml.safe_load(PROFILE.read_text())
    raw.update(target="vertex", env_from_kubernetes_secrets=SECRET_ENV)
    with pytest.raises(PortabilityError, match="service account"):
        compile_pipeline(config, profile_from_dict(raw, "p.yaml"), tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    "entry",
    [
        {"env": "PASSWORD", "secret": "db", "value": CANARY},
        {"env": "PASSWORD", "secret": "db", "key": f"{CANARY} extra"},
        {"env": "X", "secret": "Not_A_Name", "key": "k"},
    ],
)
def test_a_secret_entry_holds_names_only(entry):
    raw = yaml.safe_load(PROFILE.read_text())
    raw["env_from_kubernetes_secrets"] = [entry]
    with pytest.raises(ProfileError, match="env_from_kubernetes_secrets"):
        profile_from_dict(raw, "p.yaml")


@pytest.mark.parametrize("name", ["Taxi_Model", "taxi_model", "7taxi", "taxi-"])
def test_compile_refuses_a_name_kubeflow_would_reject_in_one_line(
    tmp_path, capsys, monkeypatch, name
):
    from cli.main import main

    monkeypatch.chdir(tmp_path)  # the config's relative outputs: here, wherever this runs from
    raw = yaml.safe_load(TAXI_CONFIG.read_text())
    raw.update(name=name, schema=str(ROOT / raw["schema"]))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw))
    args = ["compile", "--config", str(config), "--profile", str(PROFILE)]
    assert main([*args, "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"'name' {name!r} cannot name a Kubeflow pipeline" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
