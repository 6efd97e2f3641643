"""`tfxp serve`: TensorFlow Serving's REST API for the pushed model, on aiohttp.

The routes and answers are TF Serving's (a client written for it works unchanged, and the same
serving folder loads in the official image): model status, metadata, `:predict` with
`instances` (rows) or `inputs` (columns) and `:classify` with `examples`. Values are raw feature
values, turned into `tf.Example`s by the curated schema (`examples`). A bad request is a 400
with TF Serving's `{"error": ...}` naming the feature; nothing a client sends stops the server.
Scoring runs in a thread pool, so a slow batch does not hold other requests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re

from aiohttp import web

from serving.examples import RequestError, RequestSchema, to_examples
from serving.repository import SIGNATURE, ModelRepository, VersionNotFound

MAX_BODY = 4 * 1024 * 1024  # bytes; a larger request is refused with a 400
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
        raise web.HTTPNotFound(
            text=json.dumps({"error": f"Malformed request: /v1/models/{tail}"}),
            content_type="application/json",
        )
    version = match["version"]
    if version is not None and not version.isdigit():
        raise RequestError(f"version must be a number, got {version!r}")
    return Target(
        match["name"],
        int(version) if version else None,
        match["label"],
        bool(match["metadata"]),
        match["verb"],
    )


class Server:
    """One model name over one serving folder."""

    def __init__(self, name: str, repository: ModelRepository, request: RequestSchema):
        self.name, self.repository, self.request = name, repository, request

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/v1/models/{tail:.*}", self.get)
        app.router.add_post("/v1/models/{tail:.*}", self.post)
        return app

    def _version(self, target: Target) -> int:
        if target.name != self.name:
            raise VersionNotFound(f"Servable not found for request: Latest({target.name})")
        if target.label is not None:
            raise VersionNotFound(f"Unrecognized servable version label: {target.label}")
        return self.repository.resolve(target.version)

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
        try:
            target = _target(request.match_info["tail"])
            if target.verb not in ("predict", "classify"):
                return _error(404, f"unsupported method {target.verb!r}: predict or classify")
            version = self._version(target)
            body = await _json_body(request)
            rows = _rows(body, target.verb)
            examples = to_examples(rows, self.request)
            loop = asyncio.get_running_loop()
            scores = await loop.run_in_executor(None, self.repository.scores, version, examples)
        except RequestError as err:
            return _error(400, str(err))
        except VersionNotFound as err:
            return _error(404, str(err))
        except web.HTTPRequestEntityTooLarge:
            return _error(400, f"request body over {MAX_BODY} bytes")
        except Exception as err:  # the model failed on a request it accepted: the server stays
            _LOG.exception("scoring failed")
            return _error(500, f"scoring failed: {type(err).__name__}: {err}")
        if target.verb == "classify":
            results = [[["0", 1.0 - s[0]], ["1", s[0]]] for s in scores]
            return web.json_response({"results": results})
        return web.json_response({"predictions": scores})

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


def _status(version: int) -> dict:
    return {
        "version": str(version),
        "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""},
    }


async def _json_body(request: web.Request) -> dict:
    text = await request.text()
    try:
        body = json.loads(text)
    except ValueError as err:
        raise RequestError(f"the body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    return body


def _rows(body: dict, verb: str) -> list:
    """Rows of feature values from TF Serving's request shapes: `instances` (rows) or `inputs`
    (columns) for predict, `examples` (with an optional shared `context`) for classify."""
    signature = body.get("signature_name", SIGNATURE)
    if signature != SIGNATURE:
        raise RequestError(f"unknown signature_name {signature!r}; this model has {SIGNATURE!r}")
    if verb == "classify":
        if "examples" not in body:
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


def run(name: str, repository: ModelRepository, request: RequestSchema, host: str, port: int):
    """Serve until interrupted."""
    web.run_app(
        Server(name, repository, request).app(),
        host=host,
        port=port,
        print=None,
        access_log=None,
    )
