from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from curation.catalog import services
from curation.models import Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_resource_with_its_normalized_url():
    resource = services.create_resource(url="HTTPS://Example.com/Guide/?utm_source=x", title="G")
    assert resource.normalized_url == "https://example.com/Guide"
    assert resource.url == "HTTPS://Example.com/Guide/?utm_source=x"


def test_it_refuses_a_duplicate_url_and_names_the_existing_resource():
    existing = services.create_resource(url="https://example.com/guide", title="The guide")
    with pytest.raises(services.DuplicateResource) as caught:
        services.create_resource(url="https://EXAMPLE.com/guide/#intro?", title="Again")
    assert caught.value.existing == existing
    assert "The guide" in str(caught.value)
    assert f"#{existing.pk}" in str(caught.value)
    assert Resource.objects.count() == 1


def test_it_refuses_a_non_http_url_with_the_field_named():
    with pytest.raises(ValidationError) as caught:
        services.create_resource(url="ftp://example.com/file", title="F")
    assert "url" in caught.value.message_dict
    assert Resource.objects.count() == 0


def test_it_refuses_fields_the_system_sets():
    with pytest.raises(ValidationError) as caught:
        services.create_resource(url="https://example.com/x", title="X", health="healthy")
    assert "health" in caught.value.message_dict


def test_changing_the_url_to_anothers_is_refused_and_leaves_the_row_unchanged():
    first = ResourceFactory(url="https://example.com/one")
    second = ResourceFactory(url="https://example.com/two")
    with pytest.raises(services.DuplicateResource):
        services.update_resource(second, url="https://example.com/one/")
    second.refresh_from_db()
    assert second.url == "https://example.com/two"
    assert first.normalized_url != second.normalized_url


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_inserts_of_the_same_url_leave_exactly_one_row():
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def insert(title: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.create_resource(url="https://example.com/race", title=title)
            outcomes.append("created")
        except services.DuplicateResource:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=insert, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Resource.objects.filter(normalized_url="https://example.com/race").count() == 1


def test_the_database_itself_refuses_a_second_row_with_the_same_normalized_url():
    from django.db import IntegrityError, transaction

    ResourceFactory(url="https://example.com/same")
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.create(
            url="https://example.com/same/", normalized_url="https://example.com/same", title="x"
        )


def test_servable_resources_exclude_drafts_archived_and_broken():
    live = ResourceFactory(status="published", health="healthy")
    ResourceFactory(status="draft")
    ResourceFactory(status="archived")
    ResourceFactory(status="published", health="broken")
    moved = ResourceFactory(status="published", health="moved")
    assert set(Resource.objects.servable()) == {live, moved}
