"""The deadline watchdog: a watch fires on time, and cancelled ones do not pile up in memory."""

from __future__ import annotations

import socket
import time
import weakref

from curation.checker import watchdog
from curation.checker.watchdog import COMPACT_ABOVE, attach_current, watching


class _Connection:
    """What the guarded pool attaches: anything with a .sock."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock


def test_cancelled_watches_do_not_stay_until_their_deadline():
    # Every request arms a 30 s watch and cancels it when it is answered; kept until their
    # deadline, 20,000 requests in 30 s would mean 20,000 watches in memory.
    far = time.monotonic() + 300
    watches = []
    for _ in range(20_000):
        with watching(far) as watch:
            pass
        watches.append(weakref.ref(watch))
    del watch

    still_held = sum(1 for ref in watches if ref() is not None)
    assert still_held <= 2 * COMPACT_ABOVE + 1


def test_a_live_watch_still_fires_after_the_heap_is_compacted():
    near, far = time.monotonic() + 0.3, time.monotonic() + 300
    ours, theirs = socket.socketpair()
    theirs.settimeout(10)
    try:
        with watching(near) as watch:
            attach_current(_Connection(ours))
            for _ in range(5 * COMPACT_ABOVE):
                # Other threads' requests, armed and answered while ours waits.
                with watching(far):
                    pass
            # The watch shuts our end down at its deadline, which ends the peer's read.
            assert theirs.recv(1) == b""
            assert watch.fired
    finally:
        ours.close()
        theirs.close()


def test_a_cancelled_watch_never_fires():
    ours, theirs = socket.socketpair()
    try:
        with watching(time.monotonic() + 0.05) as watch:
            attach_current(_Connection(ours))
        time.sleep(0.05 + watchdog.FIRE_SLACK + 0.3)

        assert not watch.fired
        ours.sendall(b"x")  # still open: nobody shut it down
        assert theirs.recv(1) == b"x"
    finally:
        ours.close()
        theirs.close()
