"""The foundation's integration test: a real worker process on real Redis runs a task end to end."""

from __future__ import annotations

import pytest

from curation.models import HealthState, LinkCheck, Resource
from tests.factories import ResourceFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def test_a_worker_checks_an_enqueued_resource_and_the_result_is_in_the_database(cluster, site):
    cluster.allowed.add(site.host_port)
    resource = ResourceFactory(url=site.url("/page"), health=HealthState.UNKNOWN)
    cluster.start_worker()
    cluster.send("curation.check_resources", items=[[resource.pk, "e2e-token"]])
    check = wait_for(
        lambda: LinkCheck.objects.filter(resource=resource).first(),
        timeout=180,
        what="the worker to record the check",
    )
    resource = Resource.objects.get(pk=resource.pk)
    assert check.outcome == "ok"
    assert check.dispatch_token == "e2e-token"
    assert resource.health == HealthState.HEALTHY
    assert resource.next_check_at is not None


def test_the_dispatcher_task_on_a_worker_checks_everything_due(cluster, site):
    cluster.allowed.add(site.host_port)
    due = [ResourceFactory(url=site.url(f"/due/{i}"), next_check_at=None) for i in range(5)]
    cluster.start_worker()
    cluster.send("curation.dispatch_due_checks")
    wait_for(
        lambda: LinkCheck.objects.filter(resource__in=due).count() == 5,
        timeout=180,
        what="five scheduled checks",
    )
    assert set(LinkCheck.objects.values_list("source", flat=True)) == {"scheduled"}
    assert Resource.objects.filter(pk__in=[r.pk for r in due], check_lease_until=None).count() == 5
