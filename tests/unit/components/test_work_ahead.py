import concurrent.futures
import threading

import pytest

from components.work_ahead import results_in_order


@pytest.fixture
def pool():
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        yield executor


def test_results_come_in_the_items_order_however_the_work_finishes(pool):
    first_may_end = threading.Event()

    def work(item):
        if item == 0:  # the first item ends only once the second has been worked on
            assert first_may_end.wait(10)
        else:
            first_may_end.set()
        return item * 10

    assert list(results_in_order(pool, work, range(5), 1)) == [0, 10, 20, 30, 40]


def test_items_are_drawn_at_most_ahead_past_the_result_in_use(pool):
    drawn = []

    def items():
        for item in range(10):
            drawn.append(item)
            yield item

    results = results_in_order(pool, lambda item: item, items(), 2)
    assert next(results) == 0
    assert drawn == [0, 1, 2]  # the first result, and two items worked on ahead of it
    assert next(results) == 1
    assert drawn == [0, 1, 2, 3]
    results.close()


def test_closed_early_it_cancels_the_work_not_yet_begun():
    started = []
    gate = threading.Event()

    def work(item):
        started.append(item)
        if item:  # every item but the first waits until the results are closed
            assert gate.wait(10)
        return item

    with concurrent.futures.ThreadPoolExecutor(1) as one_worker:
        results = results_in_order(one_worker, work, range(10), 3)
        assert next(results) == 0  # items 1-3 were submitted; the one worker begins item 1
        results.close()
        gate.set()
    assert started in ([0], [0, 1])  # items 2 and 3 never ran, and nothing was drawn after


def test_a_failing_item_raises_where_its_result_is_due(pool):
    def work(item):
        if item == 2:
            raise ValueError("item 2")
        return item

    results = results_in_order(pool, work, range(5), 1)
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(ValueError, match="item 2"):
        next(results)
