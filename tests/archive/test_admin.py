"""The admin: the archived copy on the resource page, in its health evidence, and the
one-click "use the archived copy" that keeps the original address on record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from curation import enqueue
from curation.archive import services as archive_services
from curation.catalog import services as catalog_services
from curation.models import (
    ArchivedSnapshot,
    HealthState,
    Resource,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db

ORIGINAL = "https://lessons.example.test/joins"
MEMENTO = "https://archive.example.test/web/20251103090000/https://lessons.example.test/joins"


@pytest.fixture
def broken() -> Resource:
    resource = ResourceFactory(url=ORIGINAL, health=HealthState.BROKEN)
    ArchivedSnapshot.objects.create(
        resource=resource,
        url=MEMENTO,
        captured_at=datetime(2025, 11, 3, 9, 0, tzinfo=UTC),
        archive="Internet Archive",
        found_by="timegate",
        verified=True,
        looked_up_at=timezone.now(),
    )
    return resource


@pytest.fixture
def calls(monkeypatch):
    """calls(module, "name"): the calls made to module.name, which still runs as before."""

    def spy(module, name):
        real = getattr(module, name)
        seen = []

        def recorded(*args, **kwargs):
            seen.append((args, kwargs))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)
        return seen

    return spy


def use_url(resource) -> str:
    return reverse("admin:curation_resource_use_archived", args=[resource.pk])


def test_the_resource_page_shows_the_copy_in_its_health_evidence(curator_client, broken):
    page = curator_client.get(reverse("admin:curation_resource_change", args=[broken.pk]))
    html = page.content.decode()
    evidence = html[html.index("Health evidence") :]
    assert MEMENTO in evidence
    assert "Internet Archive" in evidence
    assert "Memento TimeGate" in evidence
    assert f'formaction="{use_url(broken)}"' in evidence


def test_an_unverified_copy_says_so(curator_client, broken):
    ArchivedSnapshot.objects.update(verified=False, found_by="constructed", captured_at=None)
    page = curator_client.get(reverse("admin:curation_resource_change", args=[broken.pk]))
    assert "unverified: the archive may hold nothing there" in page.content.decode()


def test_using_the_archived_copy_keeps_the_original_address_on_record(
    curator_client, broken, calls, broker_messages, django_capture_on_commit_callbacks
):
    used = calls(archive_services, "use_archived_copy")
    updated = calls(catalog_services, "update_resource")
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(use_url(broken))
    assert response.status_code == 302
    broken.refresh_from_db()
    assert (broken.url, broken.original_url) == (MEMENTO, ORIGINAL)
    # Through the catalogue's one write path, which checks the new address at once.
    assert len(used) == 1 and len(updated) == 1
    checks = [k for t, k in broker_messages() if t == enqueue.CHECK_RESOURCES]
    assert [item[0] for k in checks for item in k["items"]] == [broken.pk]
    page = curator_client.get(response["Location"]).content.decode()
    assert "now points at its archived copy" in page
    assert f"originally {ORIGINAL}" in page


def test_switching_twice_keeps_the_first_original(curator_client, broken):
    curator_client.post(use_url(broken))
    ArchivedSnapshot.objects.create(
        resource=broken,
        url=MEMENTO.replace("20251103", "20251201"),
        captured_at=datetime(2025, 12, 1, tzinfo=UTC),
        archive="Internet Archive",
        found_by="timemap",
        looked_up_at=timezone.now(),
    )
    curator_client.post(use_url(broken))
    broken.refresh_from_db()
    assert broken.url == MEMENTO.replace("20251103", "20251201")
    assert broken.original_url == ORIGINAL


def test_without_a_copy_the_button_says_why_and_changes_nothing(curator_client):
    resource = ResourceFactory(url=ORIGINAL, health=HealthState.BROKEN)
    response = curator_client.post(use_url(resource), follow=True)
    assert "has no archived copy to use" in response.content.decode()
    resource.refresh_from_db()
    assert (resource.url, resource.original_url) == (ORIGINAL, "")


def test_a_viewer_sees_the_copy_but_cannot_use_it(client, broken, broker_messages):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_resource"))
    client.force_login(viewer)
    page = client.get(reverse("admin:curation_resource_change", args=[broken.pk]))
    assert MEMENTO in page.content.decode()
    assert use_url(broken) not in page.content.decode()
    assert client.post(use_url(broken)).status_code == 403
    broken.refresh_from_db()
    assert (broken.url, broken.original_url) == (ORIGINAL, "")
    assert broker_messages() == []


def test_the_button_only_answers_posts(curator_client, broken):
    assert curator_client.get(use_url(broken)).status_code == 405


def test_the_snapshot_log_is_read_only(curator_client, broken):
    listing = curator_client.get(reverse("admin:curation_archivedsnapshot_changelist"))
    assert MEMENTO in listing.content.decode()
    assert curator_client.get(reverse("admin:curation_archivedsnapshot_add")).status_code == 403


def test_using_the_copy_tells_the_webhooks(curator_client, broken):
    WebhookEndpoint.objects.create(
        url="https://hooks.example.test/in", events=["resource.archived"], secret="whsec_x"
    )
    curator_client.post(use_url(broken))
    delivery = WebhookDelivery.objects.get(event="resource.archived")
    assert delivery.payload["data"]["archived"]["url"] == MEMENTO
    assert delivery.payload["data"]["resource"]["url"] == MEMENTO
