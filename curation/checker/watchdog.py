"""Enforce the per-URL deadline while waiting for response headers.

requests' timeout is per socket operation, so a server that drips its status line and headers a
byte at a time is never "timed out". Before each request the fetcher arms a Watch; the guarded
connection pool attaches the connection it hands out; if the deadline passes first, one shared
reaper thread shuts that socket down, which unblocks the read at once.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

_local = threading.local()
# The reaper fires a watch at most this late. Coalescing wake-ups this way matters because every
# request arms a watch: without it the reaper thread woke (and took the GIL) once per request on
# arming and again, for nothing, when each cancelled watch's deadline came round.
FIRE_SLACK = 0.05
# A cancelled watch stays in the heap until it is compacted away: without that, every request
# of the last `deadline` seconds (30 s at 900 requests/s: 27,000 watches) would stay in memory.
COMPACT_ABOVE = 256


class Watch:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._cancelled = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            self._connections.clear()
            in_heap = not self.fired  # A fired watch has already left the heap.
        if in_heap:
            _reaper.note_cancelled()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def fire(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self.fired = True
            for connection in self._connections:
                sock = getattr(connection, "sock", None)
                if sock is not None:
                    # The socket may already be closed; then there is nothing left to stop.
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)


class _Reaper:
    """One daemon thread for all watches, started on first use."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._counter = itertools.count()
        self._cancelled_in_heap = 0
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def note_cancelled(self) -> None:
        """A watch was cancelled: count it, so that the heap is compacted once most are."""
        with self._cond:
            self._cancelled_in_heap += 1

    def schedule(self, watch: Watch) -> None:
        with self._cond:
            heap_size = len(self._heap)
            if heap_size > COMPACT_ABOVE and self._cancelled_in_heap > heap_size // 2:
                # Linear, and only once the heap has doubled since the last time: amortised
                # constant per request (asyncio's timer heap does the same).
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled_in_heap = 0
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (watch.deadline, next(self._counter), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="linkcheck-deadline", daemon=True
                )
                self._thread.start()
            # The reaper already sleeps until the earliest deadline: wake it only to sleep less.
            if earliest is None or watch.deadline < earliest:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                now = time.monotonic()
                delay = self._heap[0][0] - now
                if delay > 0:
                    # Sleep a little past the earliest deadline, then take everything due.
                    self._cond.wait(delay + FIRE_SLACK)
                    continue
                due: list[Watch] = []
                while self._heap and self._heap[0][0] <= now:
                    watch = heapq.heappop(self._heap)[2]
                    if watch.cancelled:
                        self._cancelled_in_heap = max(0, self._cancelled_in_heap - 1)
                    else:
                        due.append(watch)
            for watch in due:
                watch.fire()


_reaper = _Reaper()


class watching:
    """Arm a watch for requests made by this thread inside the block.

    A plain class rather than a @contextmanager generator: it runs once per request.
    """

    __slots__ = ("previous", "watch")

    def __init__(self, deadline: float) -> None:
        self.watch = Watch(deadline)
        self.previous: Watch | None = None

    def __enter__(self) -> Watch:
        self.previous = getattr(_local, "watch", None)
        _local.watch = self.watch
        _reaper.schedule(self.watch)
        return self.watch

    def __exit__(self, *exc: object) -> None:
        self.watch.cancel()
        _local.watch = self.previous


def attach_current(connection: Any) -> None:
    """Called by the guarded pool for every connection it hands out."""
    watch = getattr(_local, "watch", None)
    if watch is not None:
        watch.attach(connection)
