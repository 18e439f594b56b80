"""Run work items concurrently with a per-key (per-host) limit, reading the input lazily.

Items wait in per-key queues; whichever key has a free slot is served next, so an input sorted by
host (all of A, then all of B...) still keeps every host busy up to its limit. At most `lookahead`
items are buffered and at most `concurrency` are running, so memory stays flat for any input size.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def schedule(
    items: Iterable[T],
    *,
    key: Callable[[T], Hashable],
    work: Callable[[T], R],
    concurrency: int,
    per_key: int,
    lookahead: int,
    ready_in: Callable[[Hashable], float] | None = None,
) -> Iterator[R]:
    """Yield work(item) for every item, in completion order.

    `ready_in(key)` may say a key must wait (e.g. a host deferred by Retry-After): its items are
    parked without occupying a thread, and other keys are served meanwhile.
    """
    source = iter(items)
    exhausted = False
    queues: dict[Hashable, deque[T]] = {}
    ready: deque[Hashable] = deque()
    in_ready: set[Hashable] = set()
    parked: list[tuple[float, int, Hashable]] = []
    parked_keys: set[Hashable] = set()
    in_flight: dict[Hashable, int] = {}
    buffered = running = sequence = 0
    done: queue.SimpleQueue[tuple[Hashable, Any]] = queue.SimpleQueue()

    def mark_ready(k: Hashable) -> None:
        free = in_flight.get(k, 0) < per_key
        if free and k in queues and k not in in_ready and k not in parked_keys:
            ready.append(k)
            in_ready.add(k)

    def run(k: Hashable, item: T) -> None:
        try:
            done.put((k, work(item)))
        except BaseException as exc:
            # Re-raised in the consumer's thread, where someone can handle it.
            done.put((k, _Failure(exc)))

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="linkcheck") as pool:
        while True:
            while not exhausted and buffered < lookahead:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                k = key(item)
                queues.setdefault(k, deque()).append(item)
                buffered += 1
                mark_ready(k)

            now = time.monotonic()
            while parked and parked[0][0] <= now:
                _, _, k = heapq.heappop(parked)
                parked_keys.discard(k)
                mark_ready(k)

            while running < concurrency and ready:
                k = ready.popleft()
                in_ready.discard(k)
                wait = ready_in(k) if ready_in is not None else 0.0
                if wait > 0:
                    sequence += 1
                    heapq.heappush(parked, (now + wait, sequence, k))
                    parked_keys.add(k)
                    continue
                pending = queues[k]
                item = pending.popleft()
                if not pending:
                    del queues[k]
                buffered -= 1
                in_flight[k] = in_flight.get(k, 0) + 1
                running += 1
                pool.submit(run, k, item)
                mark_ready(k)

            if running == 0 and not queues and exhausted:
                return
            if running == 0 and not parked and not ready and buffered < lookahead:
                continue  # Room to read more input.
            timeout = max(0.0, parked[0][0] - time.monotonic()) if parked else None
            if running == 0:
                if timeout:
                    time.sleep(timeout)
                continue
            try:
                k, result = done.get(timeout=timeout)
            except queue.Empty:
                continue
            running -= 1
            in_flight[k] -= 1
            if not in_flight[k]:
                del in_flight[k]
            mark_ready(k)
            if isinstance(result, _Failure):
                raise result.exc
            yield result
