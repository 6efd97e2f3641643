"""`tfxp serve` started as a user starts it, on a free port of 127.0.0.1, for the tests that
talk to it over a real socket."""

from __future__ import annotations

import contextlib
import json
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from tests.conftest import ROOT

TFXP = str(pathlib.Path(sys.executable).parent / "tfxp")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, path: str, body: object | bytes | None = None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@contextlib.contextmanager
def serving(config: pathlib.Path, name: str = "taxi") -> Iterator[tuple[str, subprocess.Popen]]:
    """The server of `config`, once it answers its status; stopped (as Ctrl-C would) after."""
    port = free_port()
    process = subprocess.Popen(
        [TFXP, "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline, ready = time.monotonic() + 120, False
    while not ready and time.monotonic() < deadline and process.poll() is None:
        try:
            ready = call(base, f"/v1/models/{name}")[0] == 200
        except OSError:
            pass
        time.sleep(0.2)
    if not ready or process.poll() is not None:
        process.kill()  # its stderr ends only once it has stopped
        raise AssertionError(f"tfxp serve did not answer: {process.communicate()[1][-3000:]}")
    try:
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)
