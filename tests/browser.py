"""A real headless Chromium (Debian's package, which the set-up installs), driven over the
DevTools protocol: open a page, collect console errors, uncaught exceptions and every network
request it makes, ask the DOM what is visible, and take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import pathlib
import re
import shutil
import subprocess
import tempfile

import aiohttp

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclasses.dataclass
class Visit:
    console_errors: list[str]
    requests: list[str]  # every URL the page asked for besides itself
    visible: dict[str, bool]  # CSS selector -> shown with a size on the page
    texts: dict[str, str]  # CSS selector -> its text
    screenshot: pathlib.Path


def visit(page: pathlib.Path, selectors: list[str], screenshot: pathlib.Path) -> Visit:
    assert BROWSER, "chromium is not installed: `make test` installs it (apt-get install chromium)"
    # A browser's helper processes can still write to the profile as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                BROWSER,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--window-size=1200,1600",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            endpoint = _endpoint(process)
            return asyncio.run(_drive(endpoint, page.resolve().as_uri(), selectors, screenshot))
        finally:
            process.terminate()
            process.wait(timeout=30)


def _endpoint(process: subprocess.Popen) -> str:
    for line in process.stderr:
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError(f"chromium did not start (exit {process.poll()})")


async def _drive(endpoint: str, url: str, selectors: list[str], shot: pathlib.Path) -> Visit:
    http = endpoint.replace("ws://", "http://").split("/devtools/")[0]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{http}/json/list") as answer:
            targets = await answer.json()
        target = next(t for t in targets if t["type"] == "page")
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            tab = _Tab(ws)
            for domain in ("Runtime", "Log", "Network", "Page"):
                await tab.call(f"{domain}.enable")
            await tab.call("Page.navigate", url=url)
            await tab.until("Page.loadEventFired")
            visible, texts = {}, {}
            for selector in selectors:
                probe = (
                    f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                    " if (!e) return null; const r = e.getBoundingClientRect();"
                    " const s = getComputedStyle(e);"
                    " return [r.width > 0 && r.height > 0 && s.visibility !== 'hidden'"
                    " && s.display !== 'none', e.textContent]; })()"
                )
                result = await tab.call("Runtime.evaluate", expression=probe, returnByValue=True)
                value = result["result"].get("value")
                visible[selector], texts[selector] = (value[0], value[1]) if value else (False, "")
            metrics = await tab.call("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            image = await tab.call(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            )
            shot.write_bytes(base64.b64decode(image["data"]))
            requests = [u for u in tab.requests if u != url]
            return Visit(tab.errors, requests, visible, texts, shot)


class _Tab:
    def __init__(self, ws):
        self.ws, self.next_id, self.errors, self.requests, self.seen = ws, 0, [], [], []

    async def call(self, method: str, **params) -> dict:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.ws.receive_json(), timeout=60)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]
            self._note(message)

    async def until(self, event: str) -> None:
        while event not in self.seen:
            self._note(await asyncio.wait_for(self.ws.receive_json(), timeout=60))

    def _note(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        self.seen.append(method)
        if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(str(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(str(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
