"""The deployment state: deploy a candidate, promote it, roll back; a canary's share of requests
is sticky per key; the file is written whole."""

from __future__ import annotations

import pytest

from serving import deployment
from serving.deployment import (
    CANARY,
    CANDIDATE,
    LIVE,
    SHADOW,
    DeploymentError,
    DeploymentState,
    read_state,
    write_state,
)

VERSIONS = [100, 200, 300]


def test_without_a_rollout_the_newest_version_is_live_as_in_tf_serving():
    assert DeploymentState(live=None).live_version(VERSIONS) == 300


def test_deploy_promote_and_rollback():
    state = deployment.deploy(DeploymentState(live=None), VERSIONS, 200, SHADOW)
    assert (state.live, state.candidate.version, state.candidate.mode) == (300, 200, SHADOW)
    promoted = deployment.promote(state, VERSIONS)
    assert (promoted.live, promoted.candidate, promoted.previous) == (200, None, (300,))
    back = deployment.rollback(promoted, VERSIONS)
    assert (back.live, back.previous) == (300, ())


def test_rollback_before_any_rollout_returns_to_the_version_before_the_newest():
    assert deployment.rollback(DeploymentState(live=None), VERSIONS).live == 200


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: deployment.deploy(s, VERSIONS, 999, SHADOW), "version 999 is not in"),
        (lambda s: deployment.deploy(s, VERSIONS, 300, SHADOW), "version 300 is already live"),
        (lambda s: deployment.deploy(s, VERSIONS, 200, CANARY, 0), "a percent in (0, 100]"),
        (lambda s: deployment.promote(s, VERSIONS), "no candidate to promote"),
        (lambda s: deployment.rollback(s, [300]), "no earlier live version"),
    ],
)
def test_a_rollout_the_state_does_not_allow_is_one_line(change, message):
    with pytest.raises(DeploymentError, match=message.replace("(", r"\(").replace("]", r"\]")):
        change(DeploymentState(live=None))


def test_a_canary_answers_its_share_and_the_same_key_gets_the_same_answer():
    state = deployment.deploy(DeploymentState(live=None), VERSIONS, 200, CANARY, 20)
    keyed = [state.answering(f"user-{n}") for n in range(2000)]
    assert 0.16 < keyed.count(CANDIDATE) / len(keyed) < 0.24
    assert [state.answering(f"user-{n}") for n in range(2000)] == keyed
    assert {state.answering(None) for _ in range(200)} == {LIVE, CANDIDATE}


def test_the_state_file_round_trips_and_a_broken_one_is_one_line(tmp_path):
    state = deployment.deploy(DeploymentState(live=None), VERSIONS, 200, CANARY, 20)
    write_state(tmp_path, state)
    assert read_state(tmp_path) == state
    assert [p.name for p in tmp_path.iterdir()] == [deployment.STATE_FILE]  # no temporary left
    (tmp_path / deployment.STATE_FILE).write_text("{half")
    with pytest.raises(DeploymentError, match="not a deployment state"):
        read_state(tmp_path)


def test_withdraw_drops_the_candidate_and_keeps_live_and_history():
    state = deployment.DeploymentState(
        live=2, candidate=deployment.Candidate(3, deployment.CANARY, 20.0), previous=(1,)
    )
    after = deployment.withdraw(state)
    assert (after.live, after.candidate, after.previous) == (2, None, (1,))
    with pytest.raises(deployment.DeploymentError, match="no candidate to withdraw"):
        deployment.withdraw(after)
