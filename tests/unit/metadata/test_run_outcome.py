"""`tfxp runs` says what each run ended in with one word of a fixed set, from the recorded
steps alone: a gate verdict is never a crash, and a kill is not a failure of the code."""

from __future__ import annotations

import pytest

from metadata.reader import OUTCOMES
from tests.conftest import a_run_view

FULL = {
    "CsvExampleGen": "complete",
    "ExampleGate": "complete",
    "Transform": "complete",
    "Trainer": "complete",
    "Evaluator": "complete",
    "BlessedPusher": "complete",
}
GATE_ONLY = {
    **FULL,
    "Transform": "not run",
    "Trainer": "not run",
    "Evaluator": "not run",
    "BlessedPusher": "not run",
}


@pytest.mark.parametrize(
    "facts, word",
    [
        (dict(nodes=FULL, pushed_version=7, blessed=True), "pushed"),
        (dict(nodes=FULL, blessed=False), "not-blessed"),
        (dict(nodes={**GATE_ONLY, "ExampleGate": "failed"}, gate_stopped=True), "stopped"),
        (dict(nodes={**GATE_ONLY, "ExampleGate": "failed"}), "crashed"),
        (dict(nodes=GATE_ONLY), "checked-in"),
        (dict(nodes=FULL, blessed=True, already_serving_version=7), "already-serving"),
        (dict(nodes=FULL, blessed=True, older_than_served_span=4), "kept-out"),
        (dict(nodes={**FULL, "Trainer": "abandoned"}), "interrupted"),
        (dict(nodes={**FULL, "Trainer": "running"}), "running"),
    ],
)
def test_each_way_a_run_ends_has_its_word(facts, word):
    run = a_run_view(**facts)
    assert run.outcome == word and word in OUTCOMES
    assert run.derived()["outcome"] == word
