from __future__ import annotations

from datetime import datetime

from curation.health import recording
from tests.integration.support import result


def record(resource, outcome: str, *, at: datetime, status: int | None = None):
    """One check of `resource` through the one recording path, as checked at `at`."""
    return recording.record_check(
        resource.pk,
        result=result(outcome, url=resource.url, status=status),
        source="scheduled",
        checked_at=at,
    )
