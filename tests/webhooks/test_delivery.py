"""Delivering webhooks to a real receiver on 127.0.0.1: signatures, retries, ordering, disabling."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from curation.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from curation.webhooks import delivery as webhook_delivery
from curation.webhooks import events
from tests.factories import ResourceFactory
from tests.webhooks.conftest import Answer, deliver_all

pytestmark = pytest.mark.django_db


def emit_one(resource=None, event=events.RESOURCE_UPDATED) -> WebhookDelivery:
    resource = resource or ResourceFactory()
    events.emit(event, {"resource": events.resource_data(resource)}, resource_id=resource.pk)
    return WebhookDelivery.objects.order_by("-pk").first()


def test_a_delivery_is_signed_by_the_standard_webhooks_spec_and_verifies(receiver, make_endpoint):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    resource = ResourceFactory(title="Kernels")
    delivery = emit_one(resource)

    assert deliver_all() == 1

    [request] = receiver.requests
    assert request.verified == {
        "type": "resource.updated",
        "timestamp": delivery.payload["timestamp"],
        "data": {"resource": events.resource_data(resource)},
    }
    assert request.headers["webhook-id"] == delivery.message_id
    assert delivery.message_id.startswith("msg_")
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    [attempt] = delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 204, True)
    # The log records how long the attempt took (any value: what matters is that it is kept).
    recorded = attempt.duration_ms
    assert recorded is not None


def test_a_signature_made_with_another_secret_does_not_verify(receiver, make_endpoint):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.secret = "whsec_" + "QUJD" * 8  # the receiver holds a different key
    emit_one()
    deliver_all()
    assert receiver.requests[0].verified is None


def test_a_receiver_that_fails_twice_then_succeeds_records_the_event_once_with_one_id(
    receiver, make_endpoint
):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=500), Answer(status=503))
    delivery = emit_one()

    assert deliver_all() == 3

    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.message_id}
    assert len(receiver.requests) == 3
    assert all(r.verified is not None for r in receiver.requests)
    assert len(receiver.events()) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    codes = list(delivery.attempt_log.order_by("number").values_list("number", "status_code"))
    assert codes == [(1, 500), (2, 503), (3, 204)]
    # Same bytes each time: a retry is the same message, not a new one.
    assert len({r.body for r in receiver.requests}) == 1


def test_a_failed_attempt_waits_for_the_next_retry_of_the_schedule(
    receiver, make_endpoint, settings
):
    settings.WEBHOOK_RETRY_DELAYS = [300, 1800]
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=502))
    delivery = emit_one()
    before = timezone.now()

    assert deliver_all() == 1  # the retry is not due yet

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= before + timedelta(seconds=300)
    assert delivery.lease_until is None


def test_retry_after_of_a_429_is_honoured(receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_DELAYS = [5]
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=429, headers={"Retry-After": "120"}))
    delivery = emit_one()
    before = timezone.now()

    outcome = webhook_delivery.deliver(delivery.pk)

    assert outcome.retry_in == 120
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= before + timedelta(seconds=120)


def test_a_timeout_is_retried(receiver, make_endpoint, settings):
    settings.WEBHOOK_TIMEOUT = 0.5
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(delay=2.0))
    delivery = emit_one()

    assert deliver_all() == 2

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    first = delivery.attempt_log.get(number=1)
    assert first.status_code is None and first.error
    assert not first.succeeded


def test_retries_end_after_the_schedule_and_the_delivery_fails(receiver, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(*[Answer(status=500)] * 10)
    delivery = emit_one()

    assert deliver_all() == 4  # the first attempt and three retries

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "HTTP 500"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_a_4xx_fails_at_once_and_counts_towards_disabling(receiver, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=410))
    delivery = emit_one()

    assert deliver_all() == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_a_success_resets_the_count_of_failures(receiver, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=400))
    emit_one()
    deliver_all()
    emit_one()
    deliver_all()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_redirect_is_not_followed(receiver, make_endpoint):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=307, headers={"Location": receiver.url("/elsewhere")}))
    delivery = emit_one()

    deliver_all()

    assert [r.path for r in receiver.requests] == ["/hooks"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "redirect not followed" in delivery.last_error


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_pending_deliveries_fail(
    receiver, make_endpoint, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(*[Answer(status=404)] * 10)
    for _ in range(3):
        emit_one()
        deliver_all()
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert "3 deliveries in a row failed" in endpoint.disabled_reason
    assert len(receiver.requests) == 3
    # Disabled: new events are not even written for it.
    written = WebhookDelivery.objects.count()
    emit_one()
    assert WebhookDelivery.objects.count() == written


def test_disabling_fails_the_deliveries_still_pending(receiver, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    pending = emit_one()
    webhook_delivery.disable_endpoint(endpoint, reason="test")
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.FAILED
    assert pending.last_error == "endpoint disabled: test"
    assert deliver_all() == 0
    assert receiver.requests == []


def test_an_endpoint_failing_for_more_than_a_day_is_disabled(receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_DELAYS = [3600] * 30
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 100
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(*[Answer(status=503)] * 40)
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        emit_one()
        for _ in range(26):
            deliver_all()
            clock.shift(timedelta(hours=1, seconds=1))
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason.startswith("every delivery has failed since")
    # Disabled after about a day of failures, not before.
    assert endpoint.disabled_at - start >= timedelta(hours=24)


def test_deliveries_about_one_resource_go_out_in_order(receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_DELAYS = [0, 0]
    make_endpoint(events=[events.RESOURCE_UPDATED])
    resource = ResourceFactory()
    receiver.answer(Answer(status=500))
    first = emit_one(resource)
    second = emit_one(resource)

    # The newer one waits while the older one is pending, even when asked first.
    assert webhook_delivery.deliver(second.pk).attempted is False
    deliver_all()

    order = [r.headers["webhook-id"] for r in receiver.requests]
    assert order == [first.message_id, first.message_id, second.message_id]


def test_deliveries_about_different_resources_do_not_wait_for_each_other(
    receiver, make_endpoint, settings
):
    settings.WEBHOOK_RETRY_DELAYS = [3600]
    make_endpoint(events=[events.RESOURCE_UPDATED])
    receiver.answer(Answer(status=500))
    emit_one(ResourceFactory())
    other = emit_one(ResourceFactory())
    deliver_all()
    other.refresh_from_db()
    assert other.status == DeliveryStatus.DELIVERED


def test_a_delivery_whose_worker_died_is_swept_again_once_its_lease_expires(
    receiver, make_endpoint, broker_messages
):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    delivery = emit_one()
    # A worker claimed it and died before recording anything.
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=now + timedelta(seconds=30), attempts=1
    )
    assert webhook_delivery.sweep_deliveries(now=now) == 0
    assert webhook_delivery.deliver(delivery.pk).attempted is False

    later = now + timedelta(seconds=31)
    assert webhook_delivery.sweep_deliveries(now=later) == 1
    sent = broker_messages()
    assert ("curation.deliver_webhook", {"delivery_id": delivery.pk}) in sent
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=now - timedelta(seconds=1))
    assert deliver_all() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2


def test_the_sweep_sends_a_pending_delivery_whose_message_was_lost(make_endpoint, broker_messages):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    delivery = emit_one()
    assert webhook_delivery.sweep_deliveries() == 0  # its own message may still come
    later = timezone.now() + webhook_delivery.SWEEP_GRACE + timedelta(seconds=1)
    assert webhook_delivery.sweep_deliveries(now=later) == 1
    assert broker_messages() == [("curation.deliver_webhook", {"delivery_id": delivery.pk})]


def test_the_body_sent_is_the_stored_payload(receiver, make_endpoint):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    delivery = emit_one()
    deliver_all()
    assert json.loads(receiver.requests[0].body) == delivery.payload


def test_a_delivery_for_a_deleted_endpoint_is_gone_quietly(make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_UPDATED])
    delivery = emit_one()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    assert webhook_delivery.deliver(delivery.pk).attempted is False
    assert not WebhookAttempt.objects.exists()
