"""Shared by the politeness tests: a request sent through the limiter's start gate."""

from __future__ import annotations

import threading
import time


def send_through_the_gate(limiter, host, token, wire, path, client=None, *, held_up=0.0):
    """What the guarded connection does with its slot: connected already, it waits at the gate,
    writes the request (`held_up` seconds later if its thread lost the CPU on the way), and
    reports the send."""
    client = client or wire.connect()
    # At the gate in a thread of its own, so that a limiter that never lets it through fails
    # the test rather than hanging it.
    gate = threading.Thread(target=limiter.wait_for_start, args=(host, token), daemon=True)
    gate.start()
    gate.join(20)
    assert not gate.is_alive(), f"{path} was still held at the gate 20 s on"
    if held_up:
        time.sleep(held_up)
    wire.send(client, path)
    limiter.started(host, token)
