"""Webhook addresses pass the same SSRF guard as checked links, when saved and when sent.

The network safety net (tests/netguard) records every connect() the test makes: a refused
address must leave that log empty, so no SYN was ever sent.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from curation.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from curation.webhooks import events, services
from tests.factories import ResourceFactory
from tests.webhooks.conftest import deliver_all

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/hooks",
    "http://192.168.1.20:8080/hooks",
    "http://127.0.0.1/hooks",
    "http://[::1]/hooks",
    "http://[::ffff:169.254.169.254]/hooks",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused_when_the_endpoint_is_saved(url, connections):
    with pytest.raises(ValidationError) as caught:
        services.create_endpoint(url=url, events=[events.RESOURCE_CREATED])
    assert "would be refused" in str(caught.value.message_dict["url"])
    assert not WebhookEndpoint.objects.exists()
    assert connections.attempts == []


def test_a_non_web_port_is_refused_when_the_endpoint_is_saved():
    with pytest.raises(ValidationError) as caught:
        services.create_endpoint(url="http://hooks.example.com:6379/", events=["resource.created"])
    assert "port 6379" in str(caught.value.message_dict["url"])


def test_an_unknown_event_is_refused_by_name():
    with pytest.raises(ValidationError) as caught:
        services.create_endpoint(url="https://hooks.example.com/", events=["resource.eaten"])
    assert "resource.eaten" in str(caught.value.message_dict["events"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://169.254.169.254/hooks", "http://10.1.2.3/hooks"])
def test_a_delivery_to_an_internal_address_is_refused_without_a_connection_attempt(
    url, connections, settings
):
    settings.WEBHOOK_RETRY_DELAYS = [0, 0]
    # Saved before the guard's rules changed (or written around the service): the guard at
    # send time refuses it all the same.
    endpoint = WebhookEndpoint.objects.create(
        url=url, events=[events.RESOURCE_CREATED], secret=services.new_secret()
    )
    resource = ResourceFactory()
    events.emit_resource_created(resource)

    assert deliver_all() == 1  # refused is final: no retries

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.FAILED
    assert "not a public address" in delivery.last_error
    assert connections.attempts == []


def test_an_internal_host_on_the_webhook_allow_list_is_accepted(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = frozenset({"10.0.0.7"})
    endpoint = services.create_endpoint(url="http://10.0.0.7/hooks", events=["resource.created"])
    assert endpoint.pk is not None


def test_an_internal_host_on_the_link_check_allow_list_is_accepted(settings):
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset({"10.0.0.8:8080"})
    endpoint = services.create_endpoint(
        url="http://10.0.0.8:8080/hooks", events=["resource.created"]
    )
    assert endpoint.pk is not None
