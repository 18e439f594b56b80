"""The resource page's buttons (curation/admin/buttons.py): POST only, the change permission on
the resource, back to its page. One helper serves them all; each is tried here."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from curation.models import Resource
from tests.factories import ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db

BUTTONS = [
    "admin:curation_resource_apply_moved",
    "admin:curation_resource_snooze",
    "admin:curation_resource_review",
    "admin:curation_resource_use_archived",
]


@pytest.mark.parametrize("name", BUTTONS)
def test_a_get_changes_nothing_and_is_refused(curator_client, name):
    resource = ResourceFactory()
    before = Resource.objects.values().get(pk=resource.pk)
    response = curator_client.get(reverse(name, args=[resource.pk]))
    assert response.status_code == 405
    assert Resource.objects.values().get(pk=resource.pk) == before


@pytest.mark.parametrize("name", BUTTONS)
def test_a_viewer_without_the_change_permission_is_refused(client, name):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_resource"))
    client.force_login(viewer)
    resource = ResourceFactory()
    before = Resource.objects.values().get(pk=resource.pk)
    response = client.post(reverse(name, args=[resource.pk]), {"snooze_days": "7"})
    assert response.status_code == 403
    assert Resource.objects.values().get(pk=resource.pk) == before


@pytest.mark.parametrize("name", BUTTONS)
def test_a_missing_resource_is_refused_like_a_forbidden_one(curator_client, name):
    assert curator_client.post(reverse(name, args=[987654])).status_code == 403


def test_a_button_returns_to_the_resource_page_with_its_message(curator_client):
    resource = ResourceFactory()
    response = curator_client.post(
        reverse("admin:curation_resource_snooze", args=[resource.pk]), {"snooze_days": "7"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:curation_resource_change", args=[resource.pk])
    resource.refresh_from_db()
    assert resource.snoozed_until is not None
