"""DoFn signatures kept per function: Beam finds the same state and timer specs, and a stateful
pipeline still runs, on the in-process runner every local run uses."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.coders import VarIntCoder
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import core, userstate

from components import beam_signatures

COUNT = userstate.CombiningValueStateSpec("count", VarIntCoder(), beam.combiners.CountCombineFn())
SEEN = userstate.BagStateSpec("seen", VarIntCoder())
FLUSH = userstate.TimerSpec("flush", userstate.TimeDomain.WATERMARK)
COUNT_STATE, SEEN_STATE = beam.DoFn.StateParam(COUNT), beam.DoFn.StateParam(SEEN)
FLUSH_TIMER = beam.DoFn.TimerParam(FLUSH)


class CountPerKey(beam.DoFn):
    def process(self, element, count=COUNT_STATE):
        key, _ = element
        count.add(1)
        yield key, count.read()


class KeepSeen(beam.DoFn):  # the same method names as CountPerKey, other state and a timer
    def process(self, element, seen=SEEN_STATE, flush=FLUSH_TIMER):
        seen.add(element[1])
        yield element

    @userstate.on_timer(FLUSH)
    def on_flush(self, seen=SEEN_STATE):
        yield sorted(seen.read())


class Stateless(beam.DoFn):
    def process(self, element):
        yield element


@pytest.fixture
def kept(monkeypatch):
    monkeypatch.setattr(core, "get_function_args_defaults", core.get_function_args_defaults)
    beam_signatures.install()  # an earlier test's run may have installed it already
    assert core.get_function_args_defaults is not beam_signatures._INSPECT


def dofns() -> list[beam.DoFn]:
    return [
        CountPerKey(),
        CountPerKey(),
        KeepSeen(),
        Stateless(),
        core.CallableWrapperDoFn(lambda x: x),
        core.CallableWrapperDoFn(lambda x, extra=1: (x, extra)),
    ]


def test_every_dofn_has_the_state_and_timer_specs_beam_finds_without_them_kept(monkeypatch):
    before = [userstate.get_dofn_specs(dofn) for dofn in dofns()]
    assert before[0] == ({COUNT}, set()) and before[2] == ({SEEN}, {FLUSH})
    monkeypatch.setattr(core, "get_function_args_defaults", core.get_function_args_defaults)
    beam_signatures.install()
    for _ in range(2):  # the second time from what was kept (new lambdas are new functions)
        assert [userstate.get_dofn_specs(dofn) for dofn in dofns()] == before


def test_a_second_dofn_of_a_class_is_not_inspected_again(kept, monkeypatch):
    class Fresh(KeepSeen):  # a class no other test has looked at
        def process(self, element, seen=SEEN_STATE):
            yield element

    inspected, inspect = [], beam_signatures._INSPECT
    monkeypatch.setattr(beam_signatures, "_INSPECT", lambda f: inspected.append(f) or inspect(f))
    userstate.get_dofn_specs(Fresh())
    first = len(inspected)
    userstate.get_dofn_specs(Fresh())
    assert first > 0 and len(inspected) == first


def test_a_method_bound_or_not_keeps_its_own_arguments(kept):
    assert core.get_function_args_defaults(CountPerKey().process)[0] == ["element", "count"]
    assert core.get_function_args_defaults(CountPerKey.process)[0] == ["self", "element", "count"]
    assert core.get_function_args_defaults(CountPerKey().process)[0] == ["element", "count"]


def test_a_function_given_other_defaults_after_its_first_look_is_looked_at_again(kept):
    class Counting(beam.DoFn):
        def process(self, element, count=None):
            yield element

    assert userstate.get_dofn_specs(Counting()) == (set(), set())
    Counting.process.__defaults__ = (COUNT_STATE,)
    assert userstate.get_dofn_specs(Counting()) == ({COUNT}, set())


def test_a_caller_that_changes_the_lists_it_got_changes_nothing_kept(kept):
    method = CountPerKey().process
    args, defaults = core.get_function_args_defaults(method)
    assert args == ["element", "count"] and len(defaults) == 1
    args.append("changed")
    defaults.clear()
    assert core.get_function_args_defaults(CountPerKey().process) == (
        ["element", "count"],
        list(CountPerKey.process.__defaults__),
    )


def test_a_stateful_pipeline_counts_per_key_on_the_in_process_runner(kept):
    for _ in range(2):  # the second pipeline's DoFns from signatures already kept
        with beam.Pipeline(runner="FnApiRunner") as pipeline:
            counted = (
                pipeline
                | beam.Create([("a", 1), ("b", 2), ("a", 3)])
                | beam.ParDo(CountPerKey())
                | beam.combiners.Count.PerElement()
            )
            assert_that(counted, equal_to([(("a", 1), 1), (("a", 2), 1), (("b", 1), 1)]))
