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
from collections.abc import Iterator
from typing import Any

_local = threading.local()


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
            self._cancelled = True
            self._connections.clear()

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
        self._thread: threading.Thread | None = None

    def schedule(self, watch: Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline, next(self._counter), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="linkcheck-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, _, watch = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            watch.fire()


_reaper = _Reaper()


@contextlib.contextmanager
def watching(deadline: float) -> Iterator[Watch]:
    """Arm a watch for requests made by this thread inside the block."""
    watch = Watch(deadline)
    previous = getattr(_local, "watch", None)
    _local.watch = watch
    _reaper.schedule(watch)
    try:
        yield watch
    finally:
        watch.cancel()
        _local.watch = previous


def attach_current(connection: Any) -> None:
    """Called by the guarded pool for every connection it hands out."""
    watch = getattr(_local, "watch", None)
    if watch is not None:
        watch.attach(connection)
