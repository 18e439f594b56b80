"""Run work items concurrently with a per-key (per-host) limit, reading the input lazily.

Items wait in per-key queues; whichever key has a free slot is served next, so an input sorted by
host (all of A, then all of B...) still keeps every host busy up to its limit. At most `lookahead`
items are buffered and at most `concurrency` are running, so memory stays flat for any input size.
"""

from __future__ import annotations

import functools
import heapq
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
# How long before a key's slot (ready_in) its next item is handed to a thread. The thread then
# waits for the slot itself, so the request starts on time instead of a hand-over later.
DISPATCH_LEAD = 0.025
# Input items read between two looks at what can be dispatched.
READ_BATCH = 64


class _DaemonPool:
    """Worker threads that never hold the process open.

    concurrent.futures joins its workers at interpreter exit, so an interrupted command would sit
    out every check in flight (up to a full deadline) before exiting. These threads only do
    network reads for results nobody will read any more, so abandoning them is safe.
    """

    def __init__(self, workers: int, name: str) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._workers = workers
        self._name = name

    def submit(self, task: Callable[[], None]) -> None:
        # The scheduler never has more than `workers` tasks running, so one thread per task
        # until the limit is reached keeps every task started at once.
        if len(self._threads) < self._workers:
            thread = threading.Thread(
                target=self._run, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        self._tasks.put(task)

    def _run(self) -> None:
        while (task := self._tasks.get()) is not None:
            task()

    def shutdown(self) -> None:
        for _ in self._threads:
            self._tasks.put(None)


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
    on_idle: Callable[[], None] | None = None,
) -> Iterator[R]:
    """Yield work(item) for every item, in completion order.

    `on_idle()` is called each time the scheduler is about to wait with nothing to hand out:
    a consumer that buffers what it writes flushes then, instead of once per result.

    `ready_in(key)` may say a key must wait (the per-host interval, a host deferred by
    Retry-After): its items are parked without occupying a thread, and other keys are served
    meanwhile; an item is handed over DISPATCH_LEAD before its key is ready.
    """
    source = iter(items)
    exhausted = False
    queues: dict[Hashable, deque[T]] = {}
    ready: deque[Hashable] = deque()
    in_ready: set[Hashable] = set()
    parked: list[tuple[float, int, Hashable]] = []
    parked_keys: set[Hashable] = set()
    in_flight: dict[Hashable, int] = {}
    buffered = running = sequence = read_so_far = 0
    done: queue.SimpleQueue[tuple[Hashable, Any]] = queue.SimpleQueue()

    def park(k: Hashable, until: float) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(parked, (until, sequence, k))
        parked_keys.add(k)

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

    pool = _DaemonPool(concurrency, "linkcheck")
    try:
        while True:
            # A batch at a time, so the first requests go out while the input is still read,
            # and the very first ones one by one: they go out as soon as they are read (from a
            # pipe, the next ones may not even be there yet).
            if on_idle is not None and not exhausted and buffered < lookahead:
                # Reading the input may block (a pipe): what was written so far goes out first.
                on_idle()
            for _ in range(READ_BATCH if read_so_far >= READ_BATCH else 1):
                if exhausted or buffered >= lookahead:
                    break
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                k = key(item)
                queues.setdefault(k, deque()).append(item)
                buffered += 1
                read_so_far += 1
                mark_ready(k)

            now = time.monotonic()
            while parked and parked[0][0] <= now:
                _, _, k = heapq.heappop(parked)
                parked_keys.discard(k)
                mark_ready(k)

            submitted = False
            while running < concurrency and ready:
                k = ready.popleft()
                in_ready.discard(k)
                wait = ready_in(k) if ready_in is not None else 0.0
                if wait > DISPATCH_LEAD:
                    park(k, now + wait - DISPATCH_LEAD)
                    continue
                pending = queues[k]
                item = pending.popleft()
                if not pending:
                    del queues[k]
                buffered -= 1
                in_flight[k] = in_flight.get(k, 0) + 1
                running += 1
                pool.submit(functools.partial(run, k, item))
                submitted = True
                if wait > 0:
                    # Dispatched ahead of its slot: the next item of this key is not looked at
                    # before that slot, so one thread waits for a host, not a whole batch.
                    park(k, now + wait)
                else:
                    mark_ready(k)

            if running == 0 and not queues and exhausted:
                return
            if not exhausted and buffered < lookahead:
                # More input to read: take a result if one is in, else go on reading. But first
                # let the threads just handed work send their requests: reading ahead holds
                # the GIL, and would otherwise keep them waiting for their turn (5 ms each).
                if submitted:
                    time.sleep(0)
                if running == 0:
                    continue
                try:
                    k, result = done.get_nowait()
                except queue.Empty:
                    continue
            else:
                timeout = max(0.0, parked[0][0] - time.monotonic()) if parked else None
                if on_idle is not None and (timeout is None or timeout > 0) and done.empty():
                    on_idle()
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
    finally:
        # The threads are told to stop, never waited for: after an interruption (Ctrl-C, a
        # consumer that stopped early) the checks in flight end by their own deadline, and the
        # caller reports what it has without sitting them out.
        pool.shutdown()
