"""Error analysis names the slices where a model errs more than on the rest of the eval split,
by more than chance explains, most excess errors first; small slices and chance gaps are not
named."""

from __future__ import annotations

import pytest

from metadata.evaluation import weak_slices


def _slice(examples: int, errors: int) -> dict[str, float]:
    return {"example_count": float(examples), "binary_accuracy": 1 - errors / examples}


def test_an_injected_weak_slice_is_named_and_chance_is_not():
    table = {
        "overall": _slice(2000, 300),
        "hour=17": _slice(200, 90),  # injected: 45% errors where the rest has about 12%
        "hour=3": _slice(100, 17),  # 17%: within chance of the rest's
        "payment_type=Cash": _slice(600, 40),  # better than the rest
        "hour=4": _slice(20, 12),  # 60%, but 20 examples say little
        "payment_type=Prcard": {"example_count": 40.0, "binary_accuracy": float("nan")},
    }
    [weak] = weak_slices(table)
    assert weak.slice == "hour=17" and weak.examples == 200
    assert weak.error_rate == pytest.approx(0.45)
    assert weak.rest_error_rate == pytest.approx(210 / 1800)
    assert weak.excess_errors == pytest.approx(200 * (0.45 - 210 / 1800))  # beyond the rest's
    assert weak.p_value < 1e-10


def test_the_bonferroni_correction_needs_more_evidence_when_more_slices_are_tested():
    base = {"overall": _slice(2000, 300), "hour=1": _slice(100, 24)}  # 24% against ~14.6%
    assert [w.slice for w in weak_slices(base)] == ["hour=1"]
    many = {**base, **{f"company={i}": _slice(40, 6) for i in range(40)}}
    assert weak_slices(many) == []  # p = 0.010, x41 tested: not below 0.05


def test_no_accuracy_no_analysis():
    assert weak_slices({}) == []
    assert weak_slices({"overall": {"example_count": 10.0}}) == []


def test_a_few_errors_in_a_small_slice_are_not_named_when_only_an_approximation_would():
    """Rest errs 2%; 3 errors in 30 examples. The normal approximation gave p = 0.0011 (named
    at 10 slices tested); Fisher's exact test gives about 0.02, x10: not significant."""
    table = {"overall": _slice(3030, 63), "hour=1": _slice(30, 3)}
    table.update({f"hour={i}": _slice(300, 6) for i in range(2, 11)})
    assert weak_slices(table) == []


def test_a_cross_of_a_named_slice_is_not_named_again():
    table = {
        "overall": _slice(2000, 300),
        "hour=17": _slice(200, 90),
        "hour=17, payment_type=Cash": _slice(150, 70),  # the same errors, counted again
    }
    assert [w.slice for w in weak_slices(table)] == ["hour=17"]
