"""Which version answers: the live one, and at most one candidate in shadow, canary or
blue-green mode. The state is one small JSON file in the serving folder, written whole (a
temporary file renamed over it), which the server reads again when it changes; without the file
the newest version is live, as TF Serving serves it.

Rollout commands change the state here and record each change in ML Metadata (who, when, why)
through `metadata.writer`; the server only reads the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pathlib
import random
from collections.abc import Iterator

STATE_FILE = ".deployment.json"  # hidden: TF Serving serves numbered folders only
SHADOW, CANARY, BLUE_GREEN = "shadow", "canary", "blue-green"
MODES = (SHADOW, CANARY, BLUE_GREEN)
LIVE, CANDIDATE = "live", "candidate"  # roles, and the labels a request can name


class DeploymentError(ValueError):
    """A rollout the state does not allow (no such version, nothing to promote); one line."""


@dataclasses.dataclass(frozen=True)
class Candidate:
    version: int
    mode: str
    percent: float = 0.0  # canary: the share of requests it answers


@dataclasses.dataclass(frozen=True)
class DeploymentState:
    live: int | None  # None: the newest version (no rollout made yet)
    candidate: Candidate | None = None
    previous: tuple[int, ...] = ()  # earlier live versions, newest last: what rollback returns to

    def live_version(self, versions: list[int]) -> int | None:
        if self.live is not None:
            return self.live
        return versions[-1] if versions else None

    def answering(self, key: str | None) -> str:
        """Which role answers a request: the candidate for its share of canary traffic (the
        same key, the same role), else the live version."""
        if self.candidate is None or self.candidate.mode != CANARY:
            return LIVE
        share = (
            int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            if key
            else random.random()
        )
        return CANDIDATE if share * 100 < self.candidate.percent else LIVE

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> DeploymentState:
        raw = json.loads(text)
        candidate = raw.get("candidate")
        return cls(
            live=raw.get("live"),
            candidate=Candidate(**candidate) if candidate else None,
            previous=tuple(raw.get("previous", ())),
        )


def state_path(serving_dir: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(serving_dir) / STATE_FILE


def read_state(serving_dir: pathlib.Path) -> DeploymentState:
    path = state_path(serving_dir)
    if not path.is_file():
        return DeploymentState(live=None)
    try:
        return DeploymentState.from_json(path.read_text())
    except Exception as err:  # anything a hand edit can make of it
        raise DeploymentError(f"{path}: not a deployment state ({err}); fix or remove it") from None


def write_state(serving_dir: pathlib.Path, state: DeploymentState) -> None:
    """Whole or not at all: the server never reads half a state."""
    path = state_path(serving_dir)
    partial = path.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
    partial.write_text(state.to_json())
    os.replace(partial, path)


@contextlib.contextmanager
def state_lock(serving_dir: pathlib.Path) -> Iterator[None]:
    """One rollout command at a time: two at once would each change the state they read."""
    path = pathlib.Path(serving_dir) / f"{STATE_FILE}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def deploy(
    state: DeploymentState, versions: list[int], version: int, mode: str, percent: float = 0.0
) -> DeploymentState:
    """`version` as the candidate in `mode` beside the live version."""
    if version not in versions:
        raise DeploymentError(f"version {version} is not in the serving folder ({versions})")
    if mode not in MODES:
        raise DeploymentError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == CANARY and not 0 < percent <= 100:
        raise DeploymentError(f"--canary takes a percent in (0, 100], got {percent}")
    live = state.live_version(versions)
    if version == live:
        raise DeploymentError(f"version {version} is already live")
    return dataclasses.replace(
        state, live=live, candidate=Candidate(version, mode, percent if mode == CANARY else 0.0)
    )


def promote(state: DeploymentState, versions: list[int]) -> DeploymentState:
    """The candidate becomes live; the live version becomes the one to roll back to."""
    if state.candidate is None:
        raise DeploymentError("no candidate to promote: deploy a version first")
    if state.candidate.version not in versions:
        raise DeploymentError(
            f"candidate {state.candidate.version} is no longer in the serving folder; deploy "
            "another version"
        )
    live = state.live_version(versions)
    previous = state.previous + ((live,) if live is not None else ())
    return DeploymentState(live=state.candidate.version, candidate=None, previous=previous)


def rollback(state: DeploymentState, versions: list[int]) -> DeploymentState:
    """Back to the previous live version still on disk (before any rollout: the version
    before the newest); a candidate is dropped. The live version is pinned from then on: a
    new push waits for `deploy` and `promote`."""
    previous = [v for v in state.previous if v in versions]
    if not previous and state.live is None and len(versions) > 1:
        previous = versions[:-1]
    if not previous:
        raise DeploymentError("no earlier live version to roll back to")
    return DeploymentState(live=previous[-1], candidate=None, previous=tuple(previous[:-1]))


def withdraw(state: DeploymentState) -> DeploymentState:
    """The candidate leaves; the live version stays live (a canary found worse than live)."""
    if state.candidate is None:
        raise DeploymentError("no candidate to withdraw")
    return dataclasses.replace(state, candidate=None)
