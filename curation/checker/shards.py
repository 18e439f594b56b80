"""Check links in several worker processes, each owning a share of the hosts.

CPython runs Python code in one thread at a time, so a run bounded by CPU rather than by
politeness (no per-host interval, hundreds of requests in flight) uses one core however many
threads it has. Here the parent forks worker processes before it starts any thread, gives each
new host to the worker with the fewest hosts (every URL of a host goes to the same worker, so
per-host limits stay exact) and collects the results as they come. The global concurrency and
the lookahead are split between the workers, so they still bound the whole run.

Workers speak JSON lines over pipes: [sequence, url, target] in, [sequence, result] out, where
target is the URL's parse_target (scheme, host, port) as the parent worked it out to route it, or
null when it does not parse: one parse per URL serves the routing and the check. The parent is
one thread with non-blocking pipes, so a worker that is slow to take its links holds up only the
reading of further input (as the lookahead does in one process), never the other workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import selectors
import signal
import sys
import threading
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .addresses import Target
from .config import CheckerConfig
from .engine import check_many_keyed, check_many_parsed, target_or_none
from .outcomes import CheckResult, Outcome

K = TypeVar("K")
MAX_PROCESSES = 4
# Bytes of links queued for one worker before the parent stops reading input for a while.
PENDING_LIMIT = 64 * 1024
# Input links read between two looks at the pipes, so the first ones leave at once.
READ_BATCH = 64
# Bytes taken from a worker's pipe at a time. Under glibc's mmap threshold (128 KiB) on purpose:
# os.read allocates its whole size up front, and a 256 KiB buffer was mapped and unmapped on
# every read (24 µs each, against 2 µs at 64 KiB). A small saving: a read takes several results.
READ_SIZE = 64 * 1024
# Hosts remembered with the worker they were given to; beyond that a hash decides (memory stays
# flat over millions of hosts, and a host still always lands on the same worker).
MAX_ASSIGNED_HOSTS = 100_000
WORKER_FAILED = 70


def default_processes() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def check_in_processes(
    items: Iterable[tuple[K, str]],
    *,
    config: CheckerConfig,
    processes: int,
    on_idle: Callable[[], None] | None = None,
) -> Iterator[tuple[K, CheckResult]]:
    """Like check_many_keyed, over `processes` worker processes (results in completion order).

    `on_idle()` is called whenever the run is about to wait for results to come in.

    Falls back to one process when asked for one, or when the caller's process already runs
    other threads: forking those would copy locks that nobody in the child could release.
    """
    if processes <= 1 or threading.active_count() > 1:
        yield from check_many_keyed(items, config=config, on_idle=on_idle)
        return
    yield from _Shards(items, config, processes, on_idle).run()


class _Worker:
    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self.pid = pid
        self.to_child: int | None = to_child
        self.from_child: int | None = from_child
        self.pending = bytearray()
        self.received = bytearray()
        self.outstanding: dict[int, tuple[Any, str]] = {}
        self.hosts = 0
        self.alive = True


class _Shards:
    def __init__(
        self,
        items: Iterable[tuple[Any, str]],
        config: CheckerConfig,
        count: int,
        on_idle: Callable[[], None] | None,
    ):
        self.on_idle = on_idle
        self.source = iter(items)
        self.exhausted = False
        # A link read but not yet queued, because its worker has enough waiting.
        self.stalled: tuple[Any, str, Target | None, _Worker | None] | None = None
        self.sequence = 0
        self.assigned: dict[str | None, _Worker] = {}
        self.workers = _start_workers(config, count)
        self.selector = selectors.DefaultSelector()

    def run(self) -> Iterator[tuple[Any, CheckResult]]:
        try:
            for worker in self.workers:
                self.selector.register(worker.from_child, selectors.EVENT_READ, worker)
            while any(worker.from_child is not None for worker in self.workers):
                # The first links one at a time, so that they reach their workers at once.
                yield from self._read_input(READ_BATCH if self.sequence >= READ_BATCH else 1)
                for worker in self.workers:
                    self._watch_writes(worker)
                # With input still to read and room for it, only look at what is ready now.
                more = not self.exhausted and self.stalled is None
                if not more and self.on_idle is not None:
                    self.on_idle()
                for key, events in self.selector.select(0 if more else None):
                    worker = key.data
                    if key.fd == worker.to_child and events & selectors.EVENT_WRITE:
                        self._write(worker)
                    elif key.fd == worker.from_child:
                        yield from self._read_results(worker)
            # Every worker is gone, so what is left of the input can only be reported lost.
            yield from self._read_input(None)
        finally:
            self._stop()

    def _read_input(self, most: int | None) -> Iterator[tuple[Any, CheckResult]]:
        """Queue up to `most` input links for their workers, stopping early when the next
        link's worker has enough waiting (input is read in order)."""
        read = 0
        while not self.exhausted and (most is None or read < most):
            read += 1
            if self.stalled is None:
                try:
                    key, url = next(self.source)
                except StopIteration:
                    self.exhausted = True
                    return
                target = target_or_none(url)
                self.stalled = (key, url, target, self._route(target))
            key, url, target, worker = self.stalled
            if worker is None or not worker.alive:
                self.stalled = None
                yield key, _lost(url, "no checking process was left to check it")
                continue
            if len(worker.pending) >= PENDING_LIMIT:
                return  # Until that worker has taken some.
            self.stalled = None
            self.sequence += 1
            worker.outstanding[self.sequence] = (key, url)
            parsed = None if target is None else [target.scheme, target.host, target.port]
            worker.pending += json.dumps([self.sequence, url, parsed]).encode() + b"\n"

    def _route(self, target: Target | None) -> _Worker | None:
        host = target.host_key if target is not None else None
        worker = self.assigned.get(host)
        if worker is None or not worker.alive:
            # A new host, or one whose worker died: the worker with the fewest hosts takes it.
            alive = [w for w in self.workers if w.alive]
            if not alive:
                return None
            if len(self.assigned) < MAX_ASSIGNED_HOSTS:
                worker = min(alive, key=lambda w: w.hosts)
                worker.hosts += 1
                self.assigned[host] = worker
            else:
                worker = self.workers[_stable_hash(host) % len(self.workers)]
        return worker

    def _watch_writes(self, worker: _Worker) -> None:
        if worker.to_child is None:
            return
        if not worker.pending and self.exhausted:
            # Everything is sent: end of input for this worker.
            self._close_input(worker)
            return
        wanted = selectors.EVENT_WRITE if worker.pending else 0
        registered = self._registered_events(worker.to_child)
        if wanted and not registered:
            self.selector.register(worker.to_child, selectors.EVENT_WRITE, worker)
        elif registered and not wanted:
            self.selector.unregister(worker.to_child)

    def _registered_events(self, fd: int) -> int:
        try:
            return self.selector.get_key(fd).events
        except KeyError:
            return 0

    def _write(self, worker: _Worker) -> None:
        assert worker.to_child is not None
        try:
            written = os.write(worker.to_child, worker.pending)
        except BlockingIOError:
            return
        except BrokenPipeError:
            # The worker is gone; what it was owed is reported when its output ends.
            worker.pending.clear()
            self._close_input(worker)
            return
        del worker.pending[:written]

    def _close_input(self, worker: _Worker) -> None:
        if worker.to_child is None:
            return
        if self._registered_events(worker.to_child):
            self.selector.unregister(worker.to_child)
        os.close(worker.to_child)
        worker.to_child = None

    def _read_results(self, worker: _Worker) -> Iterator[tuple[Any, CheckResult]]:
        assert worker.from_child is not None
        chunk = os.read(worker.from_child, READ_SIZE)
        if not chunk:
            yield from self._worker_ended(worker)
            return
        worker.received += chunk
        end = worker.received.rfind(b"\n")
        if end < 0:
            return
        lines = bytes(worker.received[:end]).split(b"\n")
        del worker.received[: end + 1]
        for line in lines:
            sequence, data = json.loads(line)
            key, _ = worker.outstanding.pop(sequence)
            yield key, CheckResult.from_dict(data)

    def _worker_ended(self, worker: _Worker) -> Iterator[tuple[Any, CheckResult]]:
        assert worker.from_child is not None
        self.selector.unregister(worker.from_child)
        os.close(worker.from_child)
        worker.from_child = None
        self._close_input(worker)
        status = _reap(worker)
        worker.alive = False
        # A worker that died (killed, out of memory) owes results for the links it was given:
        # report them rather than let them vanish from the report.
        for key, url in worker.outstanding.values():
            yield key, _lost(url, f"the checking process ended before checking it ({status})")
        worker.outstanding.clear()
        worker.pending.clear()

    def _stop(self) -> None:
        """Interrupted or finished: no worker outlives the run."""
        for worker in self.workers:
            if worker.alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
                _reap(worker)
                worker.alive = False
            for fd in (worker.to_child, worker.from_child):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            worker.to_child = worker.from_child = None
        self.selector.close()


def _lost(url: str, why: str) -> CheckResult:
    return CheckResult(
        url=url, outcome=Outcome.CONNECTION_ERROR, error=why, rule="checker-process-lost"
    )


def _stable_hash(host: str | None) -> int:
    # Not hash(): it is salted per process, and the split should be the same from run to run.
    return zlib.crc32((host or "").encode())


def _reap(worker: _Worker) -> str:
    try:
        _, status = os.waitpid(worker.pid, 0)
    except ChildProcessError:
        return "already reaped"
    code = os.waitstatus_to_exitcode(status)
    return f"exit status {code}" if code >= 0 else f"killed by signal {-code}"


def _start_workers(config: CheckerConfig, count: int) -> list[_Worker]:
    # Each worker may keep its share of the global concurrency in flight (at least one), and
    # hold its share of the lookahead: the whole run keeps the limits of one process.
    shares = [config.concurrency // count + (i < config.concurrency % count) for i in range(count)]
    lookahead = max(1, config.lookahead // count)
    for stream in (sys.stdout, sys.stderr):
        # Buffered output would be written twice, once by a child.
        stream.flush()
    workers: list[_Worker] = []
    for share in shares:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's own coverage is not collected
            inherited = [fd for w in workers for fd in (w.to_child, w.from_child) if fd]
            code = _worker_main(
                to_child_r,
                from_child_w,
                dataclasses.replace(config, concurrency=max(1, share), lookahead=lookahead),
                close=[to_child_w, from_child_r, *inherited],
            )
            os._exit(code)
        os.close(to_child_r)
        os.close(from_child_w)
        os.set_blocking(to_child_w, False)
        workers.append(_Worker(pid, to_child_w, from_child_r))
    return workers


def _parsed_item(
    sequence: int, url: str, parsed: list[Any] | None
) -> tuple[int, str, Target | None]:
    return sequence, url, None if parsed is None else Target(*parsed)


def _end_with_parent(results_fd: int) -> None:
    """End this worker as soon as nobody reads its results: its parent is gone (even by SIGKILL).

    Only the parent holds the read end of the results pipe, and poll() reports the write end's
    error (POLLERR on Linux, POLLHUP on the BSDs) once that is closed, at once if it already
    is. A thread waits for it without holding the GIL; otherwise an orphaned worker would go on
    checking until it next tried to write a result (up to a deadline later). POLLNVAL, the
    worker closing the pipe itself at the end, just ends the watch.
    """

    def watch() -> None:
        poller = select.poll()
        poller.register(results_fd, 0)  # Errors and hang-ups are reported whatever is asked.
        for _, events in poller.poll():
            if events & (select.POLLERR | select.POLLHUP):
                os._exit(0)

    threading.Thread(target=watch, name="linkcheck-parent", daemon=True).start()


def _worker_main(read_fd: int, write_fd: int, config: CheckerConfig, *, close: list[int]) -> int:
    """A worker: check the links that come in, write each result out as soon as it is known."""
    try:
        _end_with_parent(write_fd)
        for fd in close:
            # The other workers' pipes: held open here, they would never see their input end.
            os.close(fd)
        # The parent decides what an interrupt means; the report on stdout is the parent's.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        with open(read_fd, encoding="utf-8") as source, open(write_fd, "w") as sink:
            items = (_parsed_item(*json.loads(line)) for line in source)
            # Results go out whenever the worker is about to wait, several to a write when
            # several are done: the parent wakes once for them, not once each.
            results = check_many_parsed(items, config=config, on_idle=sink.flush)
            for sequence, result in results:
                sink.write(json.dumps([sequence, result.to_dict()]) + "\n")
    except BrokenPipeError:
        return 0  # The parent stopped listening (interrupted): nothing left to do.
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        return WORKER_FAILED
    return 0
