"""The offline guard across real workers: new resources are checked one task each, as after
`make run` on a machine without network, and no task alone sees enough hosts to call it."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from curation.models import CheckerIncident, HealthState, HealthTransition, LinkCheck, Resource
from tests.factories import ResourceFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]

# Nothing listens on port 9 of these loopback addresses: every connect is refused, which is
# what a worker without network sees for every host.
DEAD_HOSTS = [f"127.0.0.{i}:9" for i in range(11, 19)]


def test_two_workers_checking_one_resource_per_task_without_network_change_no_state(cluster):
    cluster.allowed.update(DEAD_HOSTS)
    cluster.extra_env.update(MONITOR_CANARY_URLS="", MONITOR_OFFLINE_MIN_HOSTS="5")
    states = [HealthState.HEALTHY, HealthState.UNKNOWN]
    resources = [
        ResourceFactory(url=f"http://{host}/page", health=states[i % 2])
        for i, host in enumerate(DEAD_HOSTS)
    ]
    cluster.start_worker()
    cluster.start_worker()
    dispatched_at = timezone.now().isoformat()
    for resource in resources:
        # As enqueue_new_address_work sends them: one message, one resource, its own token.
        cluster.send(
            "curation.check_resources",
            items=[[resource.pk, uuid.uuid4().hex]],
            dispatched_at=dispatched_at,
        )
    wait_for(
        lambda: (
            LinkCheck.objects.count() == len(resources)
            and not LinkCheck.objects.filter(counted=True).exists()
            and CheckerIncident.objects.filter(checks_discarded=len(resources)).exists()
        ),
        timeout=120,
        what="every check recorded, none counted, all in the open incident",
    )
    health = dict(Resource.objects.values_list("pk", "health"))
    assert health == {r.pk: r.health for r in resources}
    assert not HealthTransition.objects.exists()
    assert CheckerIncident.objects.get().ended_at is None
