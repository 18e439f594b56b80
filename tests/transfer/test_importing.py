"""The import service: one write path, work queued like any new resource, all or nothing."""

from __future__ import annotations

import pytest

from curation import enqueue
from curation.catalog import services
from curation.models import Collection, Resource, Topic
from curation.transfer.importing import import_catalogue
from curation.transfer.records import (
    CollectionRecord,
    ItemRecord,
    ParsedFile,
    ResourceRecord,
    SectionRecord,
    TopicRecord,
)
from tests.factories import ResourceFactory, TopicFactory

pytestmark = pytest.mark.django_db


def two_resources() -> ParsedFile:
    return ParsedFile(
        format="test",
        resources=[
            ResourceRecord("https://a.example.test/", {"title": "A"}, line=1),
            ResourceRecord("https://b.example.test/", {"title": "B"}, line=2),
        ],
    )


def queued(messages) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {enqueue.CHECK_RESOURCES: set(), enqueue.REFRESH_METADATA: set()}
    for task, kwargs in messages:
        if task == enqueue.CHECK_RESOURCES:
            found[task] |= {item[0] for item in kwargs["items"]}
        elif task == enqueue.REFRESH_METADATA:
            found[task].add(kwargs["resource_id"])
    return found


def test_new_resources_are_queued_for_their_first_check_and_metadata_after_commit(
    broker_messages, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    real = services.create_resources_in_bulk
    monkeypatch.setattr(
        services, "create_resources_in_bulk", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = import_catalogue(two_resources())

    ids = set(Resource.objects.values_list("id", flat=True))
    assert report.created == {"resource": 2} and len(calls) == 1
    assert queued(broker_messages()) == {
        enqueue.CHECK_RESOURCES: ids,
        enqueue.REFRESH_METADATA: ids,
    }


def test_a_large_import_leaves_new_resources_due_for_the_dispatchers(
    broker_messages, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "NEW_WORK_AT_ONCE", 1)
    with django_capture_on_commit_callbacks(execute=True):
        import_catalogue(two_resources())

    assert broker_messages() == []
    assert not Resource.objects.filter(next_check_at__isnull=False).exists()
    assert not Resource.objects.filter(metadata_next_fetch_at__isnull=False).exists()


def test_a_refused_import_queues_nothing(broker_messages, django_capture_on_commit_callbacks):
    parsed = two_resources()
    parsed.resources.append(ResourceRecord("javascript:alert(1)", line=3))
    with django_capture_on_commit_callbacks(execute=True):
        report = import_catalogue(parsed)

    assert not report.applied and report.created == {"resource": 2}
    assert broker_messages() == [] and not Resource.objects.exists()


def test_topics_are_saved_parents_first_with_their_prerequisites():
    parsed = ParsedFile(
        format="test",
        topics=[
            TopicRecord("child", "Child", parent="root", prerequisites=["basics"]),
            TopicRecord("root", "Root"),
            TopicRecord("basics", "Basics"),
        ],
    )

    report = import_catalogue(parsed)

    assert report.created == {"topic": 3}
    child = Topic.objects.get(slug="child")
    assert child.parent.slug == "root"
    assert [t.slug for t in child.prerequisites.all()] == ["basics"]


def test_a_prerequisite_cycle_refuses_the_whole_file():
    parsed = ParsedFile(
        format="test",
        topics=[
            TopicRecord("a", "A", prerequisites=["b"]),
            TopicRecord("b", "B", prerequisites=["a"]),
        ],
        resources=[ResourceRecord("https://a.example.test/", line=1)],
    )

    report = import_catalogue(parsed)

    assert not report.applied and report.errors
    assert not Topic.objects.exists() and not Resource.objects.exists()


def test_items_link_to_resources_already_in_the_catalogue():
    existing = ResourceFactory(url="https://a.example.test/page")
    parsed = ParsedFile(
        format="test",
        resources=[ResourceRecord("https://a.example.test/page/?utm_medium=x", line=1)],
        collections=[
            CollectionRecord(
                "list",
                "List",
                sections=[
                    SectionRecord("S", items=[ItemRecord("https://a.example.test/page", "why")])
                ],
            )
        ],
    )

    report = import_catalogue(parsed)

    assert report.skipped == {"resource": 1} and report.applied
    item = Collection.objects.get().sections.get().items.get()
    assert (item.resource_id, item.note) == (existing.pk, "why")


def test_an_existing_collection_is_skipped_updated_or_refused_by_choice():
    Collection.objects.create(slug="list", title="Old")
    parsed = ParsedFile(format="test", collections=[CollectionRecord("list", "New", line=1)])

    assert import_catalogue(parsed).skipped == {"collection": 1}
    assert (
        import_catalogue(parsed, on_duplicate="fail")
        .errors[0]
        .message.startswith("collection list exists")
    )
    assert import_catalogue(parsed, on_duplicate="update").updated == {"collection": 1}
    assert Collection.objects.get().title == "New"


def test_an_existing_topic_tag_is_reused_whatever_the_duplicate_rule():
    TopicFactory(slug="ml", name="Machine learning")
    parsed = ParsedFile(
        format="test",
        topics=[TopicRecord("ml", "ml", from_tag=True)],
        resources=[ResourceRecord("https://a.example.test/", topics=["ml"], line=1)],
    )

    report = import_catalogue(parsed, on_duplicate="fail")

    assert report.applied
    assert Topic.objects.get().name == "Machine learning"
    assert Resource.objects.get().topics.get().slug == "ml"


def test_the_importing_user_is_recorded_as_the_creator(curator):
    import_catalogue(two_resources(), user=curator)

    assert set(Resource.objects.values_list("created_by", flat=True)) == {curator.pk}


def test_an_unknown_duplicate_rule_is_a_programming_error():
    with pytest.raises(ValueError, match="on_duplicate"):
        import_catalogue(two_resources(), on_duplicate="merge")


def test_an_archived_resource_cannot_be_put_on_an_imported_list():
    archived = ResourceFactory(url="https://old.example.test/", status="archived")
    parsed = ParsedFile(
        format="test",
        collections=[
            CollectionRecord(
                "list",
                "List",
                sections=[SectionRecord("S", items=[ItemRecord(archived.url, line=4)])],
            )
        ],
    )

    report = import_catalogue(parsed)

    assert not report.applied and not Collection.objects.exists()
    assert report.errors[0].line == 4
    assert f"archived (resource #{archived.pk})" in report.errors[0].message


def test_rows_after_the_first_error_are_still_checked_and_nothing_is_kept(monkeypatch):
    from curation.transfer import importing

    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    records = [ResourceRecord(f"https://r{n}.example.test/", line=n) for n in range(1, 8)]
    records[2].url = "nope"
    records[5].url = "also nope"

    report = import_catalogue(ParsedFile(format="test", resources=records))

    assert [p.line for p in report.errors] == [3, 6]
    assert report.created == {"resource": 5} and not report.applied
    assert not Resource.objects.exists()
