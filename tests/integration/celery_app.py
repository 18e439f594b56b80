"""The project's Celery app, with broker timings shortened for the real-process tests.

A hard-killed worker's unacknowledged message comes back only after the visibility timeout
plus kombu's restore sweep (about 100 s by default): the tests set both to a few seconds.
"""

from __future__ import annotations

import os

from config.celery import app

VISIBILITY = int(os.environ.get("TEST_VISIBILITY_TIMEOUT", "0"))
if VISIBILITY:
    app.conf.update(
        broker_transport_options={
            "visibility_timeout": VISIBILITY,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        },
        # Below the visibility timeout, as in production.
        task_time_limit=max(VISIBILITY - 2, 3),
        task_soft_time_limit=max(VISIBILITY - 3, 2),
        # A killed pool process is reported (WorkerLostError -> requeue) after this wait;
        # the default of 10 s is longer than the shortened time limits above.
        worker_lost_wait=1,
    )

__all__ = ["app"]
