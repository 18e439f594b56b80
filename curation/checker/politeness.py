"""Per-host politeness: in-flight limit, minimum interval between request starts, Retry-After.

Every request the checker makes (each hop, each retry) takes a slot here first. Two backends share
one interface: LocalHostLimiter for one process, RedisHostLimiter for all workers on all machines.

The interval is a promise about request starts as the server sees them, so the in-process
limiter keeps it at the last moment: `acquire` reserves the next start slot (up to START_LEAD
early, before the request is prepared); the connection, already connected, calls
`wait_for_start()` just before it writes the request, which sleeps until the slot, and
`mark_started()` once the write has returned, which times the next start from there (the
request left at the latest then). While one request to a host is between the two, the next
waits for it: a thread held up on its way to the socket (the GIL, a busy CPU) is never
overtaken, so no two starts come closer on the wire than the interval allows. Requests to one
host therefore leave at least the interval apart on the wire however the threads were
scheduled, and reserved slots keep to the grid, so a polite run does not drift
slower than its policy. A start a few ms late (CATCH_UP at most) is made up for, a millisecond
a start; when one comes later than that, the grid moves with it: slots are only handed out for
times the gate will honour, so threads do not queue at the gate holding connections.

Follow-up requests (a redirect's next hop, the GET after a refused HEAD, a retry, the probe) ask
with `priority`: while one waits, new work for its host (`reserve`, the scheduler's) is told to
wait for the slots after it. A follow-up thus takes the host's next slot, one slot and no more,
instead of queueing behind every new URL of the host or racing them for each slot.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import FetchTimeout

# How long a waiter sleeps at most between two looks at a host that is full, in seconds.
POLL_INTERVAL = 0.05
PURGE_EVERY = 4096
# How early a start slot may be reserved: enough for the request to be prepared (headers,
# pooled connection) before its slot, so only the final sleep separates the slot from the send.
START_LEAD = 0.01
# How much closer than the interval two starts may come when the first was sent late (a thread
# waking a little late, the GIL). None: the interval is a promise about the wire (issue 21), so
# a start sent late is not made up for by the next one (the grid still catches up, see CATCH_UP,
# by reserving slots that the gate then holds to the interval).
START_TOLERANCE = 0.0
# How far behind its grid a host's starts may fall and still catch it up, in seconds: a thread
# that woke a few ms late (the GIL) costs no throughput, a host stalled for longer does not get
# a run of starts at the tolerance afterwards.
CATCH_UP = 0.005
# How often a start waiting behind another request's start (gate passed, not yet on the socket)
# looks again: that wait is a few Python lines long unless the thread ahead lost the CPU.
SENDING_POLL = 0.0005


class HostLimiter(Protocol):
    def try_acquire(self, host: str) -> tuple[Any, float]:
        """Take a slot now if allowed: (token, 0.0), else (None, seconds worth waiting)."""
        ...

    def release(self, host: str, token: Any) -> None: ...

    def defer(self, host: str, seconds: float) -> None:
        """Hold every new request to this host for `seconds` (Retry-After for the whole host)."""
        ...

    def acquire(self, host: str, *, deadline: float | None = None, priority: bool = False) -> Any:
        """Wait for a slot (not beyond `deadline`); `priority` for a check's follow-up request."""
        ...

    def delay(self, host: str) -> float:
        """Seconds before the interval or a deferral lets a new request to this host start."""
        ...

    def wait_for_start(self, host: str, token: Any) -> None:
        """Called as the request is about to be sent: sleep until its start slot, if any."""
        ...

    def started(self, host: str, token: Any) -> None:
        """Called once the request has been sent."""
        ...


def blocking_acquire(
    limiter: HostLimiter,
    host: str,
    deadline: float | None,
    try_acquire: Callable[[str], tuple[Any, float]] | None = None,
) -> Any:
    """Wait for a slot, but never beyond the caller's deadline (raises FetchTimeout)."""
    attempt = try_acquire or limiter.try_acquire
    while True:
        token, wait = attempt(host)
        if token is not None:
            return token
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= wait:
                raise FetchTimeout(
                    f"no request slot for {host} before the deadline", rule="politeness-wait"
                )
        time.sleep(min(max(wait, 0.001), 1.0))


class _StartGate(threading.local):
    limiter: HostLimiter | None = None
    host = ""
    token: Any = None


_gate = _StartGate()


class starting:
    """Within the block, this thread's next request start waits for the reserved slot.

    A plain class rather than a @contextmanager generator: it runs once per request.
    """

    __slots__ = ("host", "limiter", "token")

    def __init__(self, limiter: HostLimiter, host: str, token: Any) -> None:
        self.limiter, self.host, self.token = limiter, host, token

    def __enter__(self) -> None:
        _gate.limiter, _gate.host, _gate.token = self.limiter, self.host, self.token

    def __exit__(self, *exc: object) -> None:
        _gate.limiter = _gate.token = None


def wait_for_start() -> None:
    """Called by the guarded connection, connected, right before it writes a request."""
    if _gate.limiter is not None:
        _gate.limiter.wait_for_start(_gate.host, _gate.token)


def mark_started() -> None:
    """Called by the guarded connection once the request is sent (or the attempt failed): the
    start is on the wire, at the latest now."""
    limiter = _gate.limiter
    if limiter is not None:
        _gate.limiter = None  # One start per request.
        limiter.started(_gate.host, _gate.token)


class _Reservation:
    __slots__ = ("passed", "slot")

    def __init__(self, slot: float) -> None:
        self.slot = slot
        self.passed = False  # Through the gate (wait_for_start returned).


@dataclass
class _HostState:
    in_flight: int = 0
    # The earliest start not yet reserved (grid: the last reserved slot + the interval).
    next_slot: float = 0.0
    # When the last request actually started, and any Retry-After hold.
    last_start: float = float("-inf")
    hold_until: float = 0.0
    # Reservations not yet through the gate, and the one through it but not yet on the socket.
    waiting: int = 0
    sending: _Reservation | None = None
    # Follow-up requests waiting for a slot: new work (reserve) waits for the slots after theirs.
    followups: int = 0


class LocalHostLimiter:
    """In-process, thread-safe limiter: slots reserved on a grid, starts gated at the send."""

    def __init__(self, *, per_host_concurrency: int, per_host_interval: float) -> None:
        self.per_host_concurrency = per_host_concurrency
        self.per_host_interval = per_host_interval
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostState] = {}
        self._acquisitions = 0

    def try_acquire(self, host: str) -> tuple[Any, float]:
        return self._try_acquire(host, START_LEAD, priority=False)

    def reserve(self, host: str, lead: float) -> tuple[Any, float]:
        """For new work (the scheduler's): a slot starting within `lead` seconds, (token, 0.0),
        else (None, the seconds before one would). Follow-ups waiting for the host come first."""
        return self._try_acquire(host, lead, priority=False)

    def _try_acquire(self, host: str, lead: float, *, priority: bool) -> tuple[Any, float]:
        now = time.monotonic()
        with self._lock:
            self._acquisitions += 1
            if self._acquisitions % PURGE_EVERY == 0:
                self._purge(now)
            state = self._hosts.get(host)
            if state is None:
                state = self._hosts[host] = _HostState()
            # Follow-ups waiting for this host take the next slots (one each) before new work.
            ahead = 0 if priority else state.followups
            earliest = self._earliest(state) + ahead * self.per_host_interval
            if earliest - now > lead:
                return None, earliest - now - lead
            if state.in_flight + ahead >= self.per_host_concurrency:
                return None, POLL_INTERVAL
            # Where the slot would be had every start left on time, and where it is.
            on_time = max(now, state.next_slot, state.hold_until)
            slot = max(now, earliest)
            state.in_flight += 1
            state.waiting += 1
            # A start that came a little late keeps the grid where it was (the gate still holds
            # each start to the interval after the one before); beyond CATCH_UP the grid moves
            # with the late start, so that a long stall is not made up for.
            state.next_slot = max(on_time, slot - CATCH_UP) + self.per_host_interval
            return _Reservation(slot), 0.0

    def _spacing(self) -> float:
        return self.per_host_interval - min(START_TOLERANCE, self.per_host_interval / 50)

    def _earliest(self, state: _HostState) -> float:
        # The next slot on the grid, unless the gate cannot honour it: after a late start, the
        # starts already reserved go out an interval apart from it, and a new one after them.
        earliest = max(state.next_slot, state.hold_until)
        if self.per_host_interval > 0:
            behind = state.last_start + self._spacing() * (state.waiting + 1)
            earliest = max(earliest, behind)
        return earliest

    def wait_for_start(self, host: str, token: Any) -> None:
        # Starts keep to the reserved grid, so a thread that woke a little late does not push
        # every later start back; only a start held up by more than the tolerance does.
        spacing = self._spacing()
        while True:
            with self._lock:
                state = self._hosts.get(host)
                if state is None:
                    return
                now = time.monotonic()
                due = max(token.slot, state.last_start + spacing, state.hold_until)
                if state.sending is not None:
                    # The start ahead is on its way to the socket: its time is not known yet.
                    due = max(due, now + SENDING_POLL)
                elif due <= now:
                    state.last_start = now
                    self._pass(state, token)
                    if self.per_host_interval > 0:
                        state.sending = token
                    return
            time.sleep(due - now)

    def started(self, host: str, token: Any) -> None:
        # The next start is timed from when this request was really sent, not from when it was
        # let through: a thread held up in between (the GIL, a busy CPU) must not bring the next
        # request closer than the interval.
        now = time.monotonic()
        with self._lock:
            state = self._hosts.get(host)
            if state is not None:
                state.last_start = max(state.last_start, now)
                if state.sending is token:
                    state.sending = None

    @staticmethod
    def _pass(state: _HostState, token: Any) -> None:
        if isinstance(token, _Reservation) and not token.passed:
            token.passed = True
            state.waiting = max(0, state.waiting - 1)

    def _purge(self, now: float) -> None:
        # Forget hosts that are idle and past their interval, so a run over a million hosts keeps
        # memory flat. Called with the lock held.
        idle = [
            h
            for h, s in self._hosts.items()
            if not s.in_flight and not s.followups and self._idle(s, now)
        ]
        for host in idle:
            del self._hosts[host]

    def _idle(self, state: _HostState, now: float) -> bool:
        return (
            max(state.next_slot, state.hold_until, state.last_start + self.per_host_interval) <= now
        )

    def release(self, host: str, token: Any) -> None:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                return
            state.in_flight = max(0, state.in_flight - 1)
            # A request that failed before its start (refused, not resolved) no longer waits.
            self._pass(state, token)
            if state.sending is token:
                state.sending = None
            if state.in_flight == 0 and not state.followups and self._idle(state, time.monotonic()):
                # Forget idle hosts so a long run over many hosts keeps memory flat.
                del self._hosts[host]

    def defer(self, host: str, seconds: float) -> None:
        with self._lock:
            state = self._hosts.setdefault(host, _HostState())
            state.hold_until = max(state.hold_until, time.monotonic() + seconds)

    def acquire(self, host: str, *, deadline: float | None = None, priority: bool = False) -> Any:
        if not priority:
            return blocking_acquire(self, host, deadline)
        with self._lock:
            self._hosts.setdefault(host, _HostState()).followups += 1
        try:
            return blocking_acquire(
                self, host, deadline, lambda h: self._try_acquire(h, START_LEAD, priority=True)
            )
        finally:
            with self._lock:
                # Never forgotten while a follow-up waits (see _purge), so this is its state.
                self._hosts[host].followups -= 1

    def delay(self, host: str) -> float:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                return 0.0
            earliest = self._earliest(state) + state.followups * self.per_host_interval
            return max(0.0, earliest - time.monotonic())


# KEYS[1] = slots zset (token -> lease expiry ms), KEYS[2] = next allowed start (ms).
# ARGV: token, limit, lease_ms. Time comes from the Redis server so that workers on machines
# with skewed clocks agree. Returns {1, 0} when acquired, else {0, wait_ms} ({0, -1}: full).
# The interval is not taken here but at the send (_START): a grant says nothing about when its
# request leaves (a new TLS connection to a far host can take longer than the interval).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then
  return {0, nxt - now}
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return {0, -1}
end
local lease = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, 0}
"""

# The gate, run by the connection right before it writes the request. KEYS[1] = next allowed
# start (ms), KEYS[2] = the token of the request let through and not yet sent.
# ARGV: token, interval_ms, sending_lease_ms. Returns 0 when this request may go now (the next
# start is then held an interval), else the ms worth waiting.
_START = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sending = redis.call('GET', KEYS[2])
if sending and sending ~= ARGV[1] then
  return 1
end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then
  return nxt - now
end
local interval = tonumber(ARGV[2])
redis.call('SET', KEYS[1], now + interval, 'PX', interval)
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[3]))
return 0
"""

# The request is on the wire: time the next start from now (never earlier than already held),
# and let the next request through the gate. Same keys and arguments as _START. Now is rounded
# up here and down in _START, so whole milliseconds never bring two starts closer.
_STARTED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000)
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
local interval = tonumber(ARGV[2])
local wanted = now + interval
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if wanted > nxt then
  redis.call('SET', KEYS[1], wanted, 'PX', interval)
end
return wanted
"""

# KEYS[1] = next allowed start (ms); ARGV[1] = delay ms. Only ever pushes the start later.
_DEFER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wanted = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if wanted > nxt then
  redis.call('SET', KEYS[1], wanted, 'PX', tonumber(ARGV[1]))
end
return wanted
"""

# How long a request let through the gate may take to reach the socket before the next one to
# its host stops waiting for it (a worker that died in between must not hold the host).
SENDING_LEASE = 5.0


class RedisHostLimiter:
    """Limiter shared by every worker through Redis.

    In-flight slots are leases: a worker that dies holding one loses it after `lease_seconds`,
    so the lease must exceed the longest request (the per-URL deadline is a good value).

    The interval is kept the way the in-process limiter keeps it, at the send: the connection,
    connected, passes the gate (_START) right before it writes the request, and reports the
    write done (_STARTED), which times the next start from then. Between the two, no other
    request to the host passes the gate on any machine. With an interval that costs two more
    round trips per request; without one, none.
    """

    def __init__(
        self,
        redis_client: Any,
        *,
        per_host_concurrency: int,
        per_host_interval: float,
        lease_seconds: float = 60.0,
        key_prefix: str = "syllabus:linkcheck",
    ) -> None:
        self.redis = redis_client
        self.per_host_concurrency = per_host_concurrency
        self.per_host_interval = per_host_interval
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.interval_ms = int(per_host_interval * 1000)
        self.sending_ms = int(SENDING_LEASE * 1000)
        self.key_prefix = key_prefix
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._start = redis_client.register_script(_START)
        self._started = redis_client.register_script(_STARTED)
        self._defer = redis_client.register_script(_DEFER)

    def _keys(self, host: str) -> tuple[str, str]:
        return f"{self.key_prefix}:{host}:slots", f"{self.key_prefix}:{host}:next"

    def _gate_keys(self, host: str) -> list[str]:
        """The next allowed start and the request let through but not yet sent (_START)."""
        return [self._keys(host)[1], f"{self.key_prefix}:{host}:sending"]

    def try_acquire(self, host: str) -> tuple[Any, float]:
        # Unique among all workers (uuid4's randomness, without importing uuid and platform).
        token = os.urandom(16).hex()
        slots, nxt = self._keys(host)
        acquired, wait_ms = self._acquire(
            keys=[slots, nxt], args=[token, self.per_host_concurrency, self.lease_ms]
        )
        if int(acquired) == 1:
            return token, 0.0
        wait_ms = int(wait_ms)
        return None, POLL_INTERVAL if wait_ms < 0 else wait_ms / 1000

    def release(self, host: str, token: Any) -> None:
        self.redis.zrem(self._keys(host)[0], token)

    def defer(self, host: str, seconds: float) -> None:
        if seconds > 0:
            self._defer(keys=[self._keys(host)[1]], args=[int(seconds * 1000)])

    def acquire(self, host: str, *, deadline: float | None = None, priority: bool = False) -> Any:
        # Across machines a follow-up queues at the gate like any request: `priority` is the
        # in-process scheduler's concern (see LocalHostLimiter), and this limiter has no
        # `reserve`, so its callers hand out work by delay() and every request acquires here.
        return blocking_acquire(self, host, deadline)

    def delay(self, host: str) -> float:
        # The "next start" key expires exactly when the host may be contacted again.
        pttl = int(self.redis.pttl(self._keys(host)[1]))
        return max(0, pttl) / 1000

    def wait_for_start(self, host: str, token: Any) -> None:
        if self.interval_ms <= 0:
            return  # Nothing to space: a Retry-After hold was already checked at the grant.
        keys = self._gate_keys(host)
        while True:
            wait_ms = int(self._start(keys=keys, args=[token, self.interval_ms, self.sending_ms]))
            if wait_ms <= 0:
                return
            time.sleep(wait_ms / 1000)

    def started(self, host: str, token: Any) -> None:
        if self.interval_ms <= 0:
            return
        keys = self._gate_keys(host)
        self._started(keys=keys, args=[token, self.interval_ms, self.sending_ms])
