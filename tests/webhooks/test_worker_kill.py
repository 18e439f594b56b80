"""At least once with real processes: a worker SIGKILLed mid-delivery loses no event.

A real Celery worker on Redis takes the delivery, the receiver holds the request open, and
the worker is killed -9 (pool and all). The outbox row is still pending; once its lease has
expired, the beat sweep sends it again and a new worker delivers it, with the same message id.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from curation import enqueue
from curation.models import DeliveryStatus, WebhookDelivery
from curation.webhooks import events, services
from tests.factories import ResourceFactory
from tests.integration.conftest import wait_for
from tests.webhooks.conftest import Answer

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def test_a_worker_killed_mid_delivery_loses_no_event(cluster, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = frozenset({receiver.host_port})
    cluster.extra_env.update(
        WEBHOOK_ALLOWED_HOSTS=receiver.host_port,
        WEBHOOK_TIMEOUT="5",
        WEBHOOK_RETRY_DELAYS="1,1,1",
    )
    hold = threading.Event()
    receiver.answer(Answer(hang=hold))  # the first request hangs: that is where worker A dies
    endpoint = services.create_endpoint(url=receiver.url(), events=[events.RESOURCE_CREATED])
    receiver.secret = endpoint.secret
    resource = ResourceFactory()
    with transaction.atomic():
        events.emit_resource_created(resource)
    delivery = WebhookDelivery.objects.get()

    first = cluster.start_worker()
    cluster.send(enqueue.DELIVER_WEBHOOK, delivery_id=delivery.pk)
    assert receiver.got_request.wait(60), "worker A never sent the delivery"
    first.kill9()
    hold.set()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING  # nothing lost with the worker
    assert delivery.lease_until is not None
    assert not delivery.attempt_log.exists()

    cluster.start_worker()

    def delivered() -> bool:
        # What beat does every WEBHOOK_SWEEP_EVERY_SECONDS, here every second.
        cluster.send(enqueue.SWEEP_WEBHOOK_DELIVERIES)
        time.sleep(1)
        delivery.refresh_from_db()
        return delivery.status == DeliveryStatus.DELIVERED

    wait_for(delivered, timeout=120, what="the swept delivery to be delivered by worker B")

    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) >= 2 and set(ids) == {delivery.message_id}
    assert all(r.verified is not None for r in receiver.requests)
    assert len(receiver.events()) == 1  # recorded once, by its idempotency key
    [attempt] = delivery.attempt_log.all()
    assert attempt.succeeded and attempt.number == 2
