"""`tfxp submit` against a small KFP v2beta1 REST server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli.exits import EXIT_USER_ERROR
from cli.main import main
from kubeflow.compile import compile_pipeline
from kubeflow.profile import load_profile, profile_from_dict
from pipeline.config import load_config
from tests.conftest import ROOT, TAXI_CONFIG


class FakeKfp(BaseHTTPRequestHandler):
    """The endpoints kfp.Client 2.5 calls to start a run from a package."""

    requests: list[tuple[str, str, dict]] = []
    headers_seen: list[dict] = []
    refuse: tuple[int, dict] | None = None  # (status, body) the runs endpoint answers with

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.requests.append(("GET", self.path, {}))
        if self.path.startswith("/apis/v2beta1/healthz"):
            self._reply({"multi_user": False})
        elif self.path.startswith("/apis/v2beta1/experiments"):
            self._reply({})  # no experiment of that name yet
        else:
            self.send_error(404)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        self.requests.append(("POST", self.path, body))
        self.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path == "/apis/v2beta1/runs" and self.refuse:
            status, answer = self.refuse
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/apis/v2beta1/experiments":
            self._reply({"experiment_id": "exp-1", "display_name": body["display_name"]})
        elif self.path == "/apis/v2beta1/runs":
            self._reply(
                {
                    "run_id": "run-42",
                    "display_name": body["display_name"],
                    "experiment_id": body.get("experiment_id"),
                }
            )
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def kfp_server():
    FakeKfp.requests, FakeKfp.headers_seen, FakeKfp.refuse = [], [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKfp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    config = load_config(TAXI_CONFIG, base_dir=ROOT)
    profile = load_profile(ROOT / "kubeflow" / "profiles" / "gcp-example.yaml")
    (path,) = compile_pipeline(config, profile, tmp_path_factory.mktemp("build"))
    return path


def test_submit_sends_the_compiled_spec_and_the_parameters(kfp_server, spec_file, capsys):
    code = main(
        [
            "submit",
            "--host",
            kfp_server,
            "--spec",
            str(spec_file),
            "--experiment",
            "taxi-dev",
            "--run-name",
            "nightly",
            "--span",
            "3",
            "--param",
            "data_root=gs://other-bucket/taxi",
        ]
    )

    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "run id: run-42" in out
    assert f"url: {kfp_server}/#/runs/details/run-42" in out
    (experiment,) = [b for m, p, b in FakeKfp.requests if p == "/apis/v2beta1/experiments"]
    assert experiment["display_name"] == "taxi-dev"
    (run,) = [b for m, p, b in FakeKfp.requests if p == "/apis/v2beta1/runs"]
    assert run["display_name"] == "nightly"
    sent = run["pipeline_spec"]
    compiled = json.loads(spec_file.read_text())["pipelineSpec"]
    assert sent["root"]["inputDefinitions"] == compiled["root"]["inputDefinitions"]
    assert set(sent["root"]["dag"]["tasks"]) == set(compiled["root"]["dag"]["tasks"])
    assert all(t["cachingOptions"] == {} for t in sent["root"]["dag"]["tasks"].values())
    parameters = run["runtime_config"]["parameters"]
    assert parameters["data_root"] == "gs://other-bucket/taxi"
    assert parameters["train_args"] == '{"num_steps": 400}'
    assert json.loads(parameters["range_config"])["static_range"]["start_span_number"] == 3
    provenance = json.loads(parameters["provenance"])
    assert len(provenance["config_file_sha256"]) == 64 and "spec_sha256" in provenance
    assert provenance["image"] == "us-docker.pkg.dev/my-project/tfxp/tfxp:0.1.0"
    assert run["runtime_config"]["pipeline_root"] == "gs://my-bucket/tfxp/pipeline_root"


def test_a_run_is_named_after_the_pipeline_and_the_time(kfp_server, spec_file):
    assert main(["submit", "--host", kfp_server, "--spec", str(spec_file)]) == 0
    (run,) = [b for m, p, b in FakeKfp.requests if p == "/apis/v2beta1/runs"]
    assert re.fullmatch(r"taxi-\d{8}-\d{6}", run["display_name"])


def test_the_bearer_token_comes_from_the_environment_and_never_from_a_flag(
    kfp_server, spec_file, monkeypatch, capsys
):
    monkeypatch.setenv("KFP_BEARER_TOKEN", "tok-from-env")
    assert main(["submit", "--host", kfp_server, "--spec", str(spec_file)]) == 0
    assert all(h.get("authorization") == "Bearer tok-from-env" for h in FakeKfp.headers_seen)
    assert "tok-from-env" not in capsys.readouterr().out


def test_the_bearer_token_can_come_from_a_file(kfp_server, spec_file, tmp_path):
    token = tmp_path / "token"
    token.write_text("tok-from-file\n")
    args = ["submit", "--host", kfp_server, "--spec", str(spec_file), "--token-file", str(token)]
    assert main(args) == 0
    assert all(h.get("authorization") == "Bearer tok-from-file" for h in FakeKfp.headers_seen)


def test_the_namespace_reaches_the_server_and_caching_stays_off(kfp_server, spec_file):
    args = ["submit", "--host", kfp_server, "--spec", str(spec_file), "--namespace", "team-a"]
    assert main(args) == 0
    (experiment,) = [b for m, p, b in FakeKfp.requests if p == "/apis/v2beta1/experiments"]
    assert experiment["namespace"] == "team-a"
    (run,) = [b for m, p, b in FakeKfp.requests if p == "/apis/v2beta1/runs"]
    tasks = run["pipeline_spec"]["root"]["dag"]["tasks"].values()
    assert all(t["cachingOptions"] == {} for t in tasks)  # KFP's default would cache


@pytest.mark.parametrize("name", ["Nightly", "nightly run", "7-nightly"])
def test_a_run_name_the_backends_would_reject_is_one_line(spec_file, capsys, name):
    args = ["submit", "--host", "http://127.0.0.1:9", "--spec", str(spec_file)]
    assert main([*args, "--run-name", name]) == EXIT_USER_ERROR
    assert f"run name {name!r}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (400, {"error": "Invalid input error: resolver executors not implemented", "code": 3},
         "refused the run: 400"),
        (500, {"error": "internal error", "code": 13}, "refused the run: 500"),
    ],
)  # fmt: skip
def test_a_server_refusal_is_one_line(kfp_server, spec_file, capsys, status, body, expected):
    FakeKfp.refuse = (status, body)
    assert main(["submit", "--host", kfp_server, "--spec", str(spec_file)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_unreachable_host_is_one_clear_line(spec_file, capsys):
    code = main(["submit", "--host", "http://127.0.0.1:9", "--spec", str(spec_file)])
    err = capsys.readouterr().err
    assert code == EXIT_USER_ERROR
    assert err.startswith("tfxp: cannot reach Kubeflow Pipelines at http://127.0.0.1:9")
    assert "Traceback" not in err


def test_unknown_parameter_is_refused_before_contacting_anyone(spec_file, capsys):
    code = main(
        [
            "submit",
            "--host",
            "http://127.0.0.1:9",
            "--spec",
            str(spec_file),
            "--param",
            "train_steps=5",
        ]
    )
    assert code == EXIT_USER_ERROR
    declared = "the pipeline declares data_root, provenance, range_config, train_args"
    assert f"unknown parameter(s) train_steps; {declared}" in capsys.readouterr().err


def test_missing_spec_says_to_compile_first(tmp_path, capsys):
    assert main(["submit", "--host", "http://127.0.0.1:9", "--spec", str(tmp_path / "x.json")]) == 2
    assert "run `tfxp compile` first" in capsys.readouterr().err


@pytest.mark.parametrize("content", ['{"truncated": ', "", "[1, 2]"])
def test_a_damaged_spec_is_one_line(tmp_path, capsys, content):
    spec = tmp_path / "taxi.json"
    spec.write_text(content)
    assert main(["submit", "--host", "http://127.0.0.1:9", "--spec", str(spec)]) == EXIT_USER_ERROR
    assert "not a compiled" in capsys.readouterr().err


PROJECT_NUMBER = "4242"


class FakeVertex(BaseHTTPRequestHandler):
    """Vertex AI's pipelineJobs.create, as REST, and Cloud Storage's bucket lookup (PipelineJob
    checks the pipeline root's bucket exists before it creates the job)."""

    requests: list[tuple[str, str, dict, dict]] = []
    refuse: tuple[int, dict] | None = None

    def do_GET(self):
        self.requests.append(("GET", self.path, {}, {}))
        if self.path.startswith("/storage/v1/b/"):
            bucket = self.path.split("/")[4].split("?")[0]
            self._reply(200, {"name": bucket, "projectNumber": PROJECT_NUMBER})
        else:
            self._reply(404, {"error": {"code": 404, "message": "not found"}})

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = json.loads(raw or b"{}")
        self.requests.append(("POST", self.path, body, headers))
        if self.refuse:
            self._reply(*self.refuse)
        elif "/pipelineJobs" in self.path:
            name = self.path.split("pipelineJobId=")[1].split("&")[0]
            parent = self.path.split("?")[0].removeprefix("/v1/").removesuffix("/pipelineJobs")
            self._reply(200, {**body, "name": f"{parent}/pipelineJobs/{name}", "state": 1})
        else:
            self._reply(404, {"error": {"code": 404, "message": "not found"}})

    def log_message(self, *args):
        pass


@pytest.fixture
def vertex_server(monkeypatch):
    FakeVertex.requests, FakeVertex.refuse = [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeVertex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # Application Default Credentials cannot be discovered here (no gcloud, no metadata
    # server, and google-auth only refreshes at Google's own token endpoint): a user's access
    # token stands in for them, and the request that carries it is real.
    import google.auth
    import google.oauth2.credentials

    def adc(scopes=None, **_):
        return google.oauth2.credentials.Credentials(token="ya29.fake", scopes=scopes), None

    monkeypatch.setattr(google.auth, "default", adc)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    # PipelineJob checks the bucket is the project's through Resource Manager (gRPC, no
    # emulator): the project's number is what Resource Manager would answer.
    from google.cloud.aiplatform.utils import resource_manager_utils

    monkeypatch.setattr(resource_manager_utils, "get_project_number", lambda *a, **k: 4242)
    yield url
    server.shutdown()
    server.server_close()


def _vertex_args(url: str, spec_file) -> list[str]:
    return [
        "submit",
        "--target",
        "vertex",
        "--project",
        "my-project",
        "--region",
        "us-central1",
        "--endpoint",
        url,
        "--spec",
        str(spec_file),
    ]


def test_vertex_submit_creates_a_pipeline_job(vertex_server, spec_file, capsys):
    args = _vertex_args(vertex_server, spec_file)
    code = main([*args, "--service-account", "runner@my-project.iam.gserviceaccount.com"])
    assert code == 0, capsys.readouterr().err
    (create,) = [r for r in FakeVertex.requests if "/pipelineJobs" in r[1]]
    _, path, body, headers = create
    assert path.startswith("/v1/projects/my-project/locations/us-central1/pipelineJobs")
    assert headers["authorization"] == "Bearer ya29.fake"
    assert body["serviceAccount"] == "runner@my-project.iam.gserviceaccount.com"
    assert set(body["pipelineSpec"]["root"]["dag"]["tasks"]) == set(
        json.loads(spec_file.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    )
    runtime = body["runtimeConfig"]
    assert runtime["gcsOutputDirectory"] == "gs://my-bucket/tfxp/pipeline_root"
    assert runtime["parameterValues"]["data_root"] == "gs://my-bucket/tfxp/data/taxi"
    assert len(body["labels"]["tfxp-config_file_sha256"]) == 63  # labels hold 63 characters
    assert "pipelineJobs/taxi-" in capsys.readouterr().out


def test_vertex_refusal_is_one_line(vertex_server, spec_file, capsys):
    FakeVertex.refuse = (
        403,
        {"error": {"code": 403, "message": "Permission denied on pipelineJobs.create"}},
    )
    assert main(_vertex_args(vertex_server, spec_file)) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "Vertex AI refused the run" in err and "Permission denied" in err
    assert len(err.strip().splitlines()) == 1


def test_vertex_without_credentials_says_how_to_get_them(spec_file, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud credentials either
    assert main(_vertex_args("http://127.0.0.1:9", spec_file)) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "credentials" in err and len(err.strip().splitlines()) == 1


def test_vertex_needs_a_project_and_a_region(spec_file, capsys):
    assert main(["submit", "--target", "vertex", "--spec", str(spec_file)]) == EXIT_USER_ERROR
    assert "needs --project and --region" in capsys.readouterr().err


def test_the_kfp_run_carries_the_secret_names_to_the_pods(kfp_server, tmp_path):
    import yaml

    raw = yaml.safe_load((ROOT / "kubeflow" / "profiles" / "gcp-example.yaml").read_text())
    raw.update(
        target="kfp",
        env_from_kubernetes_secrets=[{"env": "DB_PASSWORD", "secret": "db", "key": "password"}],
    )
    profile = profile_from_dict(raw, "p.yaml")
    (spec,) = compile_pipeline(load_config(TAXI_CONFIG, base_dir=ROOT), profile, tmp_path)
    assert main(["submit", "--host", kfp_server, "--spec", str(spec)]) == 0
    (run,) = [b for m, p, b in FakeKfp.requests if p == "/apis/v2beta1/runs"]
    executors = run["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]
    (first, *_) = executors["deploymentSpec"]["executors"].values()
    assert first["secretAsEnv"][0]["secretName"] == "db"
    assert "root" in run["pipeline_spec"]["pipeline_spec"]
