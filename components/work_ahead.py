"""Work on the next items in threads while the caller uses the results before them, in order:
for steps whose heavy part (Arrow, numpy, ISA-L, tfx_bsl's decoding) lets go of the GIL."""

from __future__ import annotations

import collections
import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def results_in_order(
    pool: concurrent.futures.Executor,
    work: Callable[[Item], Result],
    items: Iterable[Item],
    ahead: int,
) -> Iterator[Result]:
    """`work(item)` for each item, in the items' order, with up to `ahead` items past the one
    yielded being worked on in `pool`. Items are drawn in the caller's thread. Closed early
    (the caller stopped, or failed), it cancels the work not yet begun."""
    pending: collections.deque = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
