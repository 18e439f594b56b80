"""Retention at scale: keyset batches over resources keep the pruning rules across batch
boundaries, and the webhook delivery log is pruned in the same pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from curation import tasks
from curation.health import retention
from curation.models import (
    DeliveryStatus,
    HealthTransition,
    LinkCheck,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import LinkCheckFactory, ResourceFactory

pytestmark = pytest.mark.django_db


def expected_survivors(now, *, days, keep):
    """The pruning rules computed naively in Python over every check."""
    cutoff = now - timedelta(days=days)
    evidence = set(
        HealthTransition.objects.exclude(link_check=None).values_list("link_check_id", flat=True)
    )
    kept = set()
    by_resource: dict[int, list[LinkCheck]] = {}
    for check in LinkCheck.objects.all():
        by_resource.setdefault(check.resource_id, []).append(check)
    for checks in by_resource.values():
        checks.sort(key=lambda c: (c.checked_at, c.pk), reverse=True)
        for rank, check in enumerate(checks, start=1):
            if check.checked_at >= cutoff or check.pk in evidence or rank <= keep:
                kept.add(check.pk)
    return kept


def test_batches_keep_the_rules_across_batch_boundaries():
    now = timezone.now()
    resources = [ResourceFactory() for _ in range(5)]
    for n, resource in enumerate(resources):
        # Different shapes per resource: 0..6 old checks, some recent ones, one evidence.
        old = [
            LinkCheckFactory(resource=resource, checked_at=now - timedelta(days=100 + i))
            for i in range(n + 2)
        ]
        for i in range(n % 3):
            LinkCheckFactory(resource=resource, checked_at=now - timedelta(days=i))
        if n % 2 == 0:
            HealthTransition.objects.create(
                resource=resource, from_state="healthy", to_state="suspect",
                at=old[-1].checked_at, link_check=old[-1],
            )  # fmt: skip
    before = LinkCheck.objects.count()
    expected = expected_survivors(now, days=90, keep=2)
    batches = []

    deleted = retention.prune_checks(
        now=now, older_than_days=90, keep_per_resource=2, batch=2,
        on_batch=lambda count, seconds: batches.append(count),
    )  # fmt: skip

    assert set(LinkCheck.objects.values_list("pk", flat=True)) == expected
    assert deleted == before - len(expected) > 0
    assert len(batches) == 3  # 2 + 2 + 1 resources
    assert sum(batches) == deleted
    # Every transition still points at its check.
    assert not HealthTransition.objects.filter(link_check=None).exists()


def test_a_batch_size_of_zero_is_refused():
    with pytest.raises(ValueError, match="batch must be at least 1"):
        retention.prune_checks(batch=0)


def test_batch_boundary_exactly_at_the_last_resource():
    now = timezone.now()
    for _ in range(4):
        LinkCheckFactory.create_batch(
            3, resource=ResourceFactory(), checked_at=now - timedelta(days=200)
        )
    batches = []
    deleted = retention.prune_checks(
        now=now, older_than_days=90, keep_per_resource=1, batch=2,
        on_batch=lambda count, seconds: batches.append(count),
    )  # fmt: skip
    assert deleted == 8
    assert LinkCheck.objects.count() == 4
    assert batches == [4, 4]


# --- Webhook delivery log -------------------------------------------------------------------


def make_delivery(endpoint, n, *, status, created_days_ago, delivered_days_ago=None, attempts=()):
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=f"msg-{n}",
        event="resource.created",
        payload={"n": n},
        status=status,
        created_at=now - timedelta(days=created_days_ago),
        delivered_at=(
            None if delivered_days_ago is None else now - timedelta(days=delivered_days_ago)
        ),
        attempts=len(attempts),
    )
    for number, days_ago in enumerate(attempts, start=1):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now - timedelta(days=days_ago),
            succeeded=status == DeliveryStatus.DELIVERED and number == len(attempts),
        )
    return delivery


@pytest.fixture
def webhook_log():
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example/in", secret="s")
    return {
        "old_delivered": make_delivery(
            endpoint, 1, status=DeliveryStatus.DELIVERED, created_days_ago=40,
            delivered_days_ago=40, attempts=(40,),
        ),
        "old_failed": make_delivery(
            endpoint, 2, status=DeliveryStatus.FAILED, created_days_ago=45, attempts=(45, 44),
        ),
        "failed_without_attempts": make_delivery(
            endpoint, 3, status=DeliveryStatus.FAILED, created_days_ago=50
        ),
        "old_pending": make_delivery(
            endpoint, 4, status=DeliveryStatus.PENDING, created_days_ago=60, attempts=(59,),
        ),
        "recent_delivered": make_delivery(
            endpoint, 5, status=DeliveryStatus.DELIVERED, created_days_ago=5,
            delivered_days_ago=5, attempts=(5,),
        ),
        # Created long ago but its last attempt is recent: finished recently, kept.
        "failed_recently": make_delivery(
            endpoint, 6, status=DeliveryStatus.FAILED, created_days_ago=40, attempts=(40, 2),
        ),
        "delivered_recently": make_delivery(
            endpoint, 7, status=DeliveryStatus.DELIVERED, created_days_ago=40,
            delivered_days_ago=1,
        ),
    }  # fmt: skip


def test_webhook_log_pruning_deletes_old_finished_deliveries_and_their_attempts(
    webhook_log, settings
):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    gone = {"old_delivered", "old_failed", "failed_without_attempts"}
    kept = set(webhook_log) - gone

    assert retention.prune_webhook_log(batch=2) == 3

    remaining = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert remaining == {webhook_log[name].pk for name in kept}
    assert not WebhookAttempt.objects.exclude(delivery_id__in=remaining).exists()
    assert WebhookAttempt.objects.filter(delivery=webhook_log["old_pending"]).exists()


def test_pending_deliveries_are_never_pruned(webhook_log):
    retention.prune_webhook_log(older_than_days=1)
    assert WebhookDelivery.objects.filter(pk=webhook_log["old_pending"].pk).exists()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_the_retention_task_prunes_checks_and_the_webhook_log(webhook_log, settings):
    settings.MONITOR_RETENTION_DAYS = 90
    settings.MONITOR_RETENTION_KEEP_PER_RESOURCE = 1
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    resource = ResourceFactory()
    LinkCheckFactory.create_batch(
        3, resource=resource, checked_at=timezone.now() - timedelta(days=100)
    )

    assert tasks.prune_checks_task() == 2

    assert LinkCheck.objects.count() == 1
    assert not WebhookDelivery.objects.filter(pk=webhook_log["old_delivered"].pk).exists()
    assert WebhookDelivery.objects.filter(pk=webhook_log["recent_delivered"].pk).exists()
