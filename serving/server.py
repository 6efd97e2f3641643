"""`tfxp serve`: TensorFlow Serving's REST API for the pushed model, on aiohttp.

The routes and answers are TF Serving's (a client written for it works unchanged, and the same
serving folder loads in the official image): model status, metadata, `:predict` with
`instances` (rows) or `inputs` (columns) and `:classify` with `examples`. Values are raw feature
values, turned into `tf.Example`s by the curated schema (`examples`). A bad request is a 400
with TF Serving's `{"error": ...}` naming the feature; nothing a client sends stops the server.
Scoring runs in a thread pool, so a slow batch does not hold other requests.

Which version answers follows the deployment state (`deployment`), read again whenever its file
changes: the live version, a canary's share of requests (sticky per `X-Request-Key`), a shadow
scored after the answer is sent and only logged; labels `live` and `candidate` name them. Every
answer is logged (`prediction_log`) under its request id (`X-Request-Id`, made up if absent and
returned), which `POST /v1/feedback` takes with the true label.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import logging
import math
import os
import pathlib
import re
import time
import uuid

from aiohttp import web

from models import features as F
from serving import deployment
from serving.deployment import CANDIDATE, LIVE, SHADOW, DeploymentState
from serving.examples import RequestError, RequestSchema, to_examples
from serving.prediction_log import ERRORS, FEEDBACK, PREDICTIONS, PredictionLog
from serving.repository import SIGNATURE, ModelRepository, VersionNotFound

MAX_BODY = 4 * 1024 * 1024  # bytes; a larger request is refused with a 400
SHADOW_QUEUE = 64  # shadow scorings waiting at most; more are dropped, never the answers
_LOG = logging.getLogger("tfxp.serve")
# <name>[/versions/<v> | /labels/<label>][/metadata | :predict | :classify]
_PATH = re.compile(
    r"^(?P<name>[^/:]+)"
    r"(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?"
    r"(?:/(?P<metadata>metadata)|:(?P<verb>[a-z]+))?$"
)


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    version: int | None
    label: str | None
    metadata: bool
    verb: str | None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _target(tail: str) -> Target:
    match = _PATH.match(tail)
    if match is None:
        raise RequestError(f"Malformed request: /v1/models/{tail}")
    version = match["version"]
    if version is not None and not version.isdigit():
        raise RequestError(f"version must be a number, got {version!r}")
    return Target(
        match["name"],
        int(version) if version else None,
        match["label"],
        bool(match["metadata"]),
        match["verb"].lower() if match["verb"] else None,  # TF Serving ignores its case
    )


@dataclasses.dataclass(frozen=True)
class Route:
    """Who answers one request: the version and its role (live, canary, shadow...)."""

    version: int
    role: str
    shadow: int | None = None  # a shadow candidate also scores this request, unseen


class StateWatch:
    """The deployment state, read again when its file changes (checked on each request: one
    stat call), so a rollout reaches the running server at once."""

    def __init__(self, serving_dir: str):
        self.path = deployment.state_path(pathlib.Path(serving_dir))
        self.serving_dir = pathlib.Path(serving_dir)
        self._seen: tuple | None = None
        self.state = DeploymentState(live=None)

    def current(self) -> tuple[DeploymentState, bool]:
        """The state, and whether it changed since the last call."""
        try:
            stat = os.stat(self.path)
            seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except FileNotFoundError:
            seen = None
        if seen == self._seen:
            return self.state, False
        try:
            self.state = deployment.read_state(self.serving_dir)
        except deployment.DeploymentError:
            _LOG.exception("deployment state unreadable; keeping the last one")
            return self.state, False
        self._seen = seen
        return self.state, True


class Server:
    """One model name over one serving folder."""

    def __init__(
        self,
        name: str,
        repository: ModelRepository,
        request: RequestSchema,
        log: PredictionLog | None = None,
        classes: tuple[str, ...] | None = ("0", "1"),
    ):
        """`classes` names the scores `:classify` answers with: a binary model's two (the
        score is class "1"'s), a multiclass model's own; None for a regression, which
        `:classify` refuses (TF Serving's classify API has no numbers)."""
        self.name, self.repository, self.request, self.log = name, repository, request, log
        self.classes = classes
        self.watch = StateWatch(repository.serving_dir)
        self._shadow_pool = concurrent.futures.ThreadPoolExecutor(1, "shadow")
        self._shadows_busy = 0
        self._shadow_tasks: set = set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/v1/models/{tail:.*}", self.get)
        app.router.add_post("/v1/models/{tail:.*}", self.post)
        app.router.add_post("/v1/feedback", self.feedback)
        app.on_cleanup.append(self._flush_log)
        return app

    async def _flush_log(self, app: web.Application) -> None:
        """On shutdown (Ctrl-C), every queued log row is written before the process ends."""
        if self.log is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.log.flush)

    def _state(self) -> DeploymentState:
        state, changed = self.watch.current()
        if changed:  # load what may answer now before a request needs it (blue-green: both)
            loop = asyncio.get_running_loop()
            versions = self.repository.versions()
            for version in {
                state.live_version(versions),
                getattr(state.candidate, "version", None),
            }:
                if version in versions:
                    loop.run_in_executor(None, self.repository.model, version)
        return state

    def _version(self, target: Target) -> int:
        """The version a status or metadata call is about: the one named, else live."""
        return self._route(target, None, split=False).version

    def _route(self, target: Target, key: str | None, split: bool = True) -> Route:
        """Who answers: the version or label named, else a canary's share (`split`), else
        the live version with a shadow beside it. A candidate gone from disk answers nothing:
        its share goes to the live version."""
        if target.name != self.name:
            raise VersionNotFound(f"Servable not found for request: Latest({target.name})")
        versions = self.repository.versions()
        state = self._state()
        live = state.live_version(versions)
        candidate = state.candidate
        if target.version is not None:
            version = self.repository.resolve(target.version)
            return Route(version, LIVE if version == live else "version")
        if candidate is not None and candidate.version not in versions:
            candidate = None
        if target.label == CANDIDATE and candidate is not None:
            return Route(candidate.version, candidate.mode)
        if target.label not in (None, LIVE):
            raise VersionNotFound(f"Unrecognized servable version label: {target.label}")
        if live is None:
            raise VersionNotFound("no version in the serving folder yet")
        if split and candidate and target.label is None and state.answering(key) == CANDIDATE:
            return Route(candidate.version, candidate.mode)
        shadow = candidate.version if candidate and candidate.mode == SHADOW else None
        return Route(self.repository.resolve(live), LIVE, shadow if shadow in versions else None)

    async def get(self, request: web.Request) -> web.Response:
        try:
            target = _target(request.match_info["tail"])
            if target.verb:
                return _error(405, f"{target.verb} takes a POST")
            version = self._version(target)
            if target.metadata:
                return web.json_response(self._metadata(version))
            shown = [version] if target.version is not None else self.repository.versions()
            return web.json_response({"model_version_status": [_status(v) for v in shown]})
        except RequestError as err:
            return _error(400, str(err))
        except VersionNotFound as err:
            return _error(404, str(err))

    async def post(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        try:
            target = _target(request.match_info["tail"])
            if target.verb not in ("predict", "classify"):
                message = f"unsupported method {target.verb!r}: predict or classify"
                return self._failed(request_id, started, 404, message)
            if target.verb == "classify" and self.classes is None:
                message = "this model predicts a number (a regression): use :predict"
                return self._failed(request_id, started, 400, message)
            route = self._route(target, request.headers.get("X-Request-Key"))
            body = await _json_body(request)
            rows = _rows(body, target.verb)
            examples = to_examples(rows, self.request)
            loop = asyncio.get_running_loop()
            scores = await loop.run_in_executor(
                None, self.repository.scores, route.version, examples
            )
        except RequestError as err:
            return self._failed(request_id, started, 400, str(err))
        except VersionNotFound as err:
            return self._failed(request_id, started, 404, str(err))
        except web.HTTPRequestEntityTooLarge:
            return self._failed(request_id, started, 400, f"request body over {MAX_BODY} bytes")
        except web.HTTPException:
            raise
        except Exception as err:  # the model failed on a request it accepted: the server stays
            _LOG.exception("scoring failed")
            message = f"scoring failed: {type(err).__name__}: {err}"
            return self._failed(request_id, started, 500, message)
        latency = (time.perf_counter() - started) * 1000
        self._log(request_id, route.version, route.role, rows, scores, latency)
        if route.shadow is not None and self._shadows_busy < SHADOW_QUEUE:
            self._shadows_busy += 1  # after the answer, on its own thread; dropped when busy
            task = asyncio.get_running_loop().create_task(
                self._shadow(request_id, route.shadow, rows, examples)
            )
            self._shadow_tasks.add(task)
            task.add_done_callback(self._shadow_tasks.discard)
        headers = {"X-Request-Id": request_id}
        if target.verb == "classify":
            return web.json_response({"results": self._classes(scores)}, headers=headers)
        if "inputs" in body:  # TF Serving answers the columnar format in kind
            return web.json_response({"outputs": scores}, headers=headers)
        return web.json_response({"predictions": scores}, headers=headers)

    def _classes(self, scores: list[list[float]]) -> list[list[list]]:
        """Each example's [class, score] pairs, as TF Serving's classify answers them."""
        if self.classes and len(self.classes) == 2 and all(len(s) == 1 for s in scores):
            return [[[self.classes[0], 1.0 - s[0]], [self.classes[1], s[0]]] for s in scores]
        return [[list(pair) for pair in zip(self.classes, s, strict=True)] for s in scores]

    async def _shadow(self, request_id: str, version: int, rows: list, examples: list) -> None:
        started = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
            scores = await loop.run_in_executor(
                self._shadow_pool, self.repository.scores, version, examples
            )
        except Exception:  # the shadow's failure is logged, never the client's
            _LOG.exception("shadow version %s failed", version)
            return
        finally:
            self._shadows_busy -= 1
        self._log(request_id, version, SHADOW, rows, scores, (time.perf_counter() - started) * 1000)

    def _log(self, request_id, version, role, rows, scores, latency_ms) -> None:
        if self.log is None:
            return
        when = time.time()
        for index, (row, score) in enumerate(zip(rows, scores, strict=True)):
            self.log.append(
                PREDICTIONS,
                {
                    "time": when,
                    "request_id": request_id,
                    "row": index,
                    "model": self.name,
                    "version": version,
                    "role": role,
                    "features": row,
                    "score": _loggable(score),
                    "latency_ms": round(latency_ms, 3),
                },
            )

    def _failed(self, request_id: str, started: float, status: int, message: str):
        """The error answer, logged: the monitor counts failed requests in the error rate."""
        if self.log is not None:
            self.log.append(
                ERRORS,
                {
                    "time": time.time(),
                    "request_id": request_id,
                    "model": self.name,
                    "status": status,
                    "error": message[:500],
                    "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )
        return _error(status, message)

    async def feedback(self, request: web.Request) -> web.Response:
        """The true label of an answered request (row 0 unless `row` says), for monitoring."""
        try:
            body = await _json_body(request)
            request_id, label = body.get("request_id"), body.get("label")
            row = body.get("row", 0)
            if not isinstance(request_id, str) or not request_id:
                raise RequestError("feedback takes 'request_id': the X-Request-Id of the answer")
            if (
                isinstance(label, bool)
                or not isinstance(label, (int, float))
                or not math.isfinite(label)
            ):
                raise RequestError(f"feedback takes a numeric 'label', got {label!r}")
            if isinstance(row, bool) or not isinstance(row, int) or row < 0:
                raise RequestError(f"'row' must be a row number of the request, got {row!r}")
        except RequestError as err:
            return _error(400, str(err))
        except web.HTTPRequestEntityTooLarge:
            return _error(400, f"request body over {MAX_BODY} bytes")
        if self.log is not None:
            self.log.append(
                FEEDBACK,
                {"time": time.time(), "request_id": request_id, "row": row, "label": label},
            )
        return web.json_response({})

    def _metadata(self, version: int) -> dict:
        return {
            "model_spec": {"name": self.name, "signature_name": "", "version": str(version)},
            "metadata": {
                "signature_def": {
                    "signature_def": self.repository.signature_def(version),
                    "@type": "type.googleapis.com/tensorflow.serving.SignatureDefMap",
                }
            },
        }


def _loggable(score: list) -> float | list | None:
    """A score as logged: a non-finite one is null (JSON has no NaN), which the monitor counts
    as an answer without a score."""
    values = [float(v) if math.isfinite(v) else None for v in score]
    return values[0] if len(values) == 1 else values


def _status(version: int) -> dict:
    return {
        "version": str(version),
        "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""},
    }


async def _json_body(request: web.Request) -> dict:
    raw = await request.read()
    try:
        body = json.loads(raw)  # UTF-8, whatever Content-Type claims
    except ValueError as err:  # UnicodeDecodeError is one
        raise RequestError(f"the body is not JSON in UTF-8: {err}") from None
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    return body


def _rows(body: dict, verb: str) -> list:
    """Rows of feature values from TF Serving's request shapes: `instances` (rows) or `inputs`
    (columns) for predict, `examples` (with an optional shared `context`) for classify."""
    signature = body.get("signature_name") or SIGNATURE  # "" is the default, as in TF Serving
    if signature != SIGNATURE:
        raise RequestError(f"unknown signature_name {signature!r}; this model has {SIGNATURE!r}")
    if verb == "classify":
        if not isinstance(body.get("examples"), list):
            raise RequestError("classify takes 'examples': a list of objects of feature values")
        context = body.get("context", {})
        if not isinstance(context, dict):
            raise RequestError("'context' must be an object of feature values")
        return [{**context, **row} if isinstance(row, dict) else row for row in body["examples"]]
    if "instances" in body:
        return body["instances"]
    if "inputs" in body:
        columns = body["inputs"]
        if not isinstance(columns, dict) or not columns:
            raise RequestError("'inputs' must be an object of feature columns")
        lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise RequestError("'inputs' columns must be lists of the same length")
        return [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]
    raise RequestError("predict takes 'instances' (rows) or 'inputs' (columns)")


def run(
    name: str,
    repository: ModelRepository,
    request: RequestSchema,
    log: PredictionLog,
    host: str,
    port: int,
    classes: tuple[str, ...] | None = ("0", "1"),
):
    """Serve until interrupted; the live version is loaded first, as TF Serving loads its
    models before it answers, so the first client does not wait for the load."""
    warm_up(repository)
    web.run_app(
        Server(name, repository, request, log, classes).app(),
        host=host,
        port=port,
        print=None,
        access_log=None,
    )


def answer_classes(label: F.Label) -> tuple[str, ...] | None:
    """The classes `:classify` answers with, by the label's kind (see `Server`)."""
    if label.kind == F.REGRESSION:
        return None
    return label.classes if label.kind == F.MULTICLASS else ("0", "1")


def warm_up(repository: ModelRepository) -> None:
    """Load the live version; one that does not load is left to answer 500s, not to stop the
    start."""
    versions = repository.versions()
    try:
        live = deployment.read_state(repository.serving_dir).live_version(versions)
        if live is not None:
            repository.model(live)
    except Exception:  # a broken version or state: each request reports it
        _LOG.warning("could not load the live version before serving", exc_info=True)
