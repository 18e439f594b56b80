"""What the workbench shows follows from the records, once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def test_the_resource_page_shows_the_health_evidence_once(curator_client):
    resource = ResourceFactory(health="broken")
    page = curator_client.get(
        reverse("admin:curation_resource_change", args=[resource.pk])
    ).content.decode()
    assert page.count(">Health evidence<") == 1
    assert page.count(reverse("admin:curation_resource_snooze", args=[resource.pk])) == 1
