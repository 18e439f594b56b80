from __future__ import annotations

import pytest

from curation.models import Collection, Resource, Topic


def empty_catalogue() -> None:
    """Delete every collection, resource and topic (lists protect their resources)."""
    Collection.objects.all().delete()
    Resource.objects.all().delete()
    Topic.objects.update(parent=None)
    Topic.objects.all().delete()


@pytest.fixture
def wipe():
    return empty_catalogue
