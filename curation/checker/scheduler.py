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
# The shortest a key is parked for when its slot is refused (a clock read twice must not spin).
MIN_PARK = 0.0005


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
    reserve: Callable[[Hashable], tuple[Any, float]] | None = None,
) -> Iterator[R]:
    """Yield work(item) for every item, in completion order.

    `on_idle()` is called each time the scheduler is about to wait with nothing to hand out:
    a consumer that buffers what it writes flushes then, instead of once per result.

    `ready_in(key)` may say a key must wait (the per-host interval, a host deferred by
    Retry-After): its items are parked without occupying a thread, and other keys are served
    meanwhile; an item is handed over DISPATCH_LEAD before its key is ready.

    `reserve(key)`, when given, replaces ready_in: it takes the key's next slot for an item,
    (token, 0.0), or says how long until one, (None, seconds). The item is then handed over
    with its slot, as work((item, token)), and the key is looked at again only for the slot
    after: a host never has more threads waiting for it than the slots it has given out.
    """
    yield from _Schedule(
        items,
        key=key,
        work=work,
        concurrency=concurrency,
        per_key=per_key,
        lookahead=lookahead,
        ready_in=ready_in,
        on_idle=on_idle,
        reserve=reserve,
    ).results()


class _Schedule:
    """One run of schedule(): the per-key queues, the parked keys and the items in flight.

    Each turn of the loop reads some input, wakes the keys whose wait is over, hands out what
    may start, then takes one finished item (waiting for it only when there is nothing else
    to do). Only the consumer's thread touches this state; the pool's threads only put their
    results on `done`.
    """

    def __init__(
        self,
        items: Iterable[Any],
        *,
        key: Callable[[Any], Hashable],
        work: Callable[[Any], Any],
        concurrency: int,
        per_key: int,
        lookahead: int,
        ready_in: Callable[[Hashable], float] | None,
        on_idle: Callable[[], None] | None,
        reserve: Callable[[Hashable], tuple[Any, float]] | None = None,
    ) -> None:
        self.source = iter(items)
        self.key = key
        self.work = work
        self.concurrency = concurrency
        self.per_key = per_key
        self.lookahead = lookahead
        self.ready_in = ready_in
        self.on_idle = on_idle
        self.reserve = reserve
        self.exhausted = False
        self.queues: dict[Hashable, deque[Any]] = {}
        # Keys with an item waiting and a free slot, in the order they became so.
        self.ready: deque[Hashable] = deque()
        self.in_ready: set[Hashable] = set()
        # Keys that must wait (their slot is later): (until, sequence, key), a heap.
        self.parked: list[tuple[float, int, Hashable]] = []
        self.parked_keys: set[Hashable] = set()
        self.in_flight: dict[Hashable, int] = {}
        self.buffered = self.running = self.sequence = self.read_so_far = 0
        self.done: queue.SimpleQueue[tuple[Hashable, Any]] = queue.SimpleQueue()
        self.pool = _DaemonPool(concurrency, "linkcheck")

    def results(self) -> Iterator[Any]:
        try:
            while True:
                self._read_input()
                now = time.monotonic()
                self._wake_parked(now)
                submitted = self._dispatch(now)
                if self.running == 0 and not self.queues and self.exhausted:
                    return
                finished = self._next_finished(submitted)
                if finished is None:
                    continue
                k, result = finished
                self._release(k)
                if isinstance(result, _Failure):
                    raise result.exc
                yield result
        finally:
            # The threads are told to stop, never waited for: after an interruption (Ctrl-C, a
            # consumer that stopped early) the checks in flight end by their own deadline, and
            # the caller reports what it has without sitting them out.
            self.pool.shutdown()

    def _read_input(self) -> None:
        """Read a batch of input, so the first requests go out while the input is still read,
        and the very first items one by one: they go out as soon as they are read (from a
        pipe, the next ones may not even be there yet)."""
        if self.on_idle is not None and not self.exhausted and self.buffered < self.lookahead:
            # Reading the input may block (a pipe): what was written so far goes out first.
            self.on_idle()
        for _ in range(READ_BATCH if self.read_so_far >= READ_BATCH else 1):
            if self.exhausted or self.buffered >= self.lookahead:
                break
            try:
                item = next(self.source)
            except StopIteration:
                self.exhausted = True
                break
            k = self.key(item)
            self.queues.setdefault(k, deque()).append(item)
            self.buffered += 1
            self.read_so_far += 1
            self._mark_ready(k)

    def _wake_parked(self, now: float) -> None:
        while self.parked and self.parked[0][0] <= now:
            _, _, k = heapq.heappop(self.parked)
            self.parked_keys.discard(k)
            self._mark_ready(k)

    def _dispatch(self, now: float) -> bool:
        """Hand ready items to the pool while there is room; True if any was handed over."""
        submitted = False
        while self.running < self.concurrency and self.ready:
            k = self.ready.popleft()
            self.in_ready.discard(k)
            if self.reserve is not None:
                submitted = self._dispatch_reserved(k, now) or submitted
                continue
            wait = self.ready_in(k) if self.ready_in is not None else 0.0
            if wait > DISPATCH_LEAD:
                self._park(k, now + wait - DISPATCH_LEAD)
                continue
            item = self._take(k)
            self.pool.submit(functools.partial(self._run, k, item))
            submitted = True
            if wait > 0:
                # Dispatched ahead of its slot: the next item of this key is not looked at
                # before that slot, so one thread waits for a host, not a whole batch.
                self._park(k, now + wait)
            else:
                self._mark_ready(k)
        return submitted

    def _dispatch_reserved(self, k: Hashable, now: float) -> bool:
        assert self.reserve is not None
        token, wait = self.reserve(k)
        if token is None:
            self._park(k, now + max(wait, MIN_PARK))
            return False
        item = self._take(k)
        self.pool.submit(functools.partial(self._run, k, (item, token)))
        # Asked again at once: the answer is the wait for the slot after this one.
        self._mark_ready(k)
        return True

    def _take(self, k: Hashable) -> Any:
        pending = self.queues[k]
        item = pending.popleft()
        if not pending:
            del self.queues[k]
        self.buffered -= 1
        self.in_flight[k] = self.in_flight.get(k, 0) + 1
        self.running += 1
        return item

    def _next_finished(self, submitted: bool) -> tuple[Hashable, Any] | None:
        """A finished item's (key, result), or None to go round the loop again."""
        if not self.exhausted and self.buffered < self.lookahead:
            # More input to read: take a result if one is in, else go on reading. But first
            # let the threads just handed work send their requests: reading ahead holds
            # the GIL, and would otherwise keep them waiting for their turn (5 ms each).
            if submitted:
                time.sleep(0)
            if self.running == 0:
                return None
            try:
                return self.done.get_nowait()
            except queue.Empty:
                return None
        timeout = max(0.0, self.parked[0][0] - time.monotonic()) if self.parked else None
        if self.on_idle is not None and (timeout is None or timeout > 0) and self.done.empty():
            self.on_idle()
        if self.running == 0:
            if timeout:
                time.sleep(timeout)
            return None
        try:
            return self.done.get(timeout=timeout)
        except queue.Empty:
            return None

    def _release(self, k: Hashable) -> None:
        self.running -= 1
        self.in_flight[k] -= 1
        if not self.in_flight[k]:
            del self.in_flight[k]
        self._mark_ready(k)

    def _park(self, k: Hashable, until: float) -> None:
        self.sequence += 1
        heapq.heappush(self.parked, (until, self.sequence, k))
        self.parked_keys.add(k)

    def _mark_ready(self, k: Hashable) -> None:
        free = self.in_flight.get(k, 0) < self.per_key
        if free and k in self.queues and k not in self.in_ready and k not in self.parked_keys:
            self.ready.append(k)
            self.in_ready.add(k)

    def _run(self, k: Hashable, item: Any) -> None:
        try:
            self.done.put((k, self.work(item)))
        except BaseException as exc:
            # Re-raised in the consumer's thread, where someone can handle it.
            self.done.put((k, _Failure(exc)))
