"""Webhook endpoints in the admin: register, secret shown once, test button, delivery log."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from curation.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from curation.webhooks import delivery as webhook_delivery
from curation.webhooks import events
from tests.factories import ResourceFactory, UserFactory
from tests.webhooks.conftest import Answer, deliver_all

pytestmark = pytest.mark.django_db

ADD = "admin:curation_webhookendpoint_add"
LIST = "admin:curation_webhookendpoint_changelist"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def add(admin_client, url: str, chosen=("resource.health_changed", "resource.created")):
    return admin_client.post(
        reverse(ADD),
        {"url": url, "description": "CI", "events": list(chosen), "active": "on"},
        follow=True,
    )


def test_an_endpoint_registered_in_the_admin_shows_its_secret_once(
    admin_client, receiver, hook_settings
):
    response = add(admin_client, receiver.url())
    endpoint = WebhookEndpoint.objects.get()
    page = response.content.decode()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in page
    assert "will not be shown again" in page
    assert endpoint.events == ["resource.health_changed", "resource.created"]
    assert endpoint.owner.username == "operator"

    change = admin_client.get(reverse("admin:curation_webhookendpoint_change", args=[endpoint.pk]))
    listing = admin_client.get(reverse(LIST))
    assert change.status_code == listing.status_code == 200
    assert endpoint.secret not in change.content.decode()
    assert endpoint.secret not in listing.content.decode()


def test_an_edit_in_the_admin_keeps_the_secret(admin_client, receiver, hook_settings):
    add(admin_client, receiver.url())
    endpoint = WebhookEndpoint.objects.get()
    response = admin_client.post(
        reverse("admin:curation_webhookendpoint_change", args=[endpoint.pk]),
        {"url": receiver.url("/v2"), "description": "", "events": ["report.generated"]},
        follow=True,
    )
    assert response.status_code == 200
    stored = WebhookEndpoint.objects.get()
    assert (stored.url, stored.events, stored.active) == (
        receiver.url("/v2"),
        ["report.generated"],
        False,
    )
    assert stored.secret == endpoint.secret
    assert endpoint.secret not in response.content.decode()


def test_an_internal_address_is_a_clear_form_error(admin_client, connections):
    response = add(admin_client, "http://169.254.169.254/latest/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Deliveries to this address would be refused" in page
    assert "169.254.169.254 is not a public address" in page
    assert not WebhookEndpoint.objects.exists()
    assert connections.attempts == []


def test_an_endpoint_needs_at_least_one_event(admin_client):
    response = add(admin_client, "https://hooks.example.com/", chosen=())
    assert "This field is required" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_test_button_sends_a_verified_webhook_test_event(admin_client, receiver, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_CREATED])
    response = admin_client.post(
        reverse("admin:curation_webhookendpoint_send_test", args=[endpoint.pk]), follow=True
    )
    assert "queued" in response.content.decode()
    deliver_all()
    [event] = receiver.events()
    assert event["type"] == "webhook.test"
    assert event["data"]["endpoint"] == {"id": endpoint.pk, "url": endpoint.url}


def test_the_test_button_needs_the_change_permission(client, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_CREATED])
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookendpoint"))
    client.force_login(viewer)
    url = reverse("admin:curation_webhookendpoint_send_test", args=[endpoint.pk])
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_log_shows_status_response_code_duration_and_attempts(
    admin_client, receiver, make_endpoint
):
    endpoint = make_endpoint(events=[events.RESOURCE_CREATED])
    receiver.answer(Answer(status=503))
    events.emit_resource_created(ResourceFactory())
    deliver_all()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED

    listing = admin_client.get(
        reverse("admin:curation_webhookdelivery_changelist"),
        {"endpoint__id__exact": endpoint.pk},
    ).content.decode()
    assert delivery.message_id in listing
    assert "Delivered" in listing
    assert "204" in listing
    assert " ms" in listing

    detail = admin_client.get(
        reverse("admin:curation_webhookdelivery_change", args=[delivery.pk])
    ).content.decode()
    assert "503" in detail and "204" in detail
    assert "HTTP 503" in detail


def test_the_delivery_log_is_read_only(admin_client, make_endpoint):
    make_endpoint(events=[events.RESOURCE_CREATED])
    events.emit_resource_created(ResourceFactory())
    delivery = WebhookDelivery.objects.get()
    assert admin_client.get(reverse("admin:curation_webhookdelivery_add")).status_code == 403
    url = reverse("admin:curation_webhookdelivery_delete", args=[delivery.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert WebhookDelivery.objects.exists()


def test_a_disabled_endpoint_is_shown_to_its_owner_with_the_reason(client, make_endpoint):
    owner = UserFactory(username="owner", is_staff=True)
    owner.user_permissions.add(Permission.objects.get(codename="view_webhookendpoint"))
    endpoint = make_endpoint(events=[events.RESOURCE_CREATED], owner=owner)
    webhook_delivery.disable_endpoint(endpoint, reason="5 deliveries in a row failed")
    client.force_login(owner)
    page = client.get(reverse(LIST)).content.decode()
    assert f"Webhook endpoint {endpoint.url} was disabled" in page
    assert "5 deliveries in a row failed" in page
    assert "Disabled" in page


def test_re_enabling_an_endpoint_delivers_to_it_again(admin_client, make_endpoint):
    endpoint = make_endpoint(events=[events.RESOURCE_CREATED])
    webhook_delivery.disable_endpoint(endpoint, reason="test")
    admin_client.post(reverse(LIST), {"action": "enable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None and endpoint.consecutive_failures == 0
    assert events.subscribed(events.RESOURCE_CREATED) == [endpoint]


def test_a_curator_may_register_endpoints_and_read_their_delivery_log(curator_client, curator):
    """Migration 0012 gives the Curators group the webhook pages, not only superusers."""
    for codename in (
        "add_webhookendpoint",
        "change_webhookendpoint",
        "view_webhookdelivery",
        "view_webhookattempt",
        "view_archivedsnapshot",
    ):
        assert curator.has_perm(f"curation.{codename}"), codename
    assert curator_client.get("/admin/curation/webhookendpoint/add/").status_code == 200
