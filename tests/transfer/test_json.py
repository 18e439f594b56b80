from __future__ import annotations

import io
import json

import pytest

from curation.demo.loader import load_demo
from curation.models import Collection, Resource, Topic
from curation.transfer.exporting import write_json
from curation.transfer.importing import import_catalogue
from curation.transfer.jsonfile import parse_json
from curation.transfer.limits import FileRefused
from tests.factories import CollectionFactory, ItemFactory, LinkCheckFactory, SectionFactory

RESOURCE_FIELDS = [
    "url", "normalized_url", "title", "description", "kind", "difficulty", "author",
    "publisher", "language", "duration_minutes", "cost", "curator_note", "featured",
    "status", "created_at",
]  # fmt: skip


def exported(**kwargs) -> str:
    buffer = io.StringIO()
    write_json(buffer, **kwargs)
    return buffer.getvalue()


def snapshot() -> dict:
    resources = {
        r.url: {name: getattr(r, name) for name in RESOURCE_FIELDS}
        | {"topics": sorted(t.slug for t in r.topics.all())}
        for r in Resource.objects.all()
    }
    topics = {
        t.slug: (t.name, t.description, t.parent.slug if t.parent else None,
                 sorted(p.slug for p in t.prerequisites.all()))
        for t in Topic.objects.all()
    }  # fmt: skip
    collections = {
        c.slug: (c.title, c.intro, c.status, c.author_name, c.published_on, [
            (s.title, s.intro, [(i.resource.url, i.note, i.required, i.position)
                                for i in s.items.all()])
            for s in c.sections.all()
        ])
        for c in Collection.objects.all()
    }  # fmt: skip
    return {"resources": resources, "topics": topics, "collections": collections}


@pytest.mark.django_db
def test_the_demo_catalogue_survives_a_json_round_trip_field_by_field(wipe):
    load_demo()
    before = snapshot()
    document = exported()
    wipe()

    report = import_catalogue(parse_json(document))

    assert report.applied and not report.errors, report.problems
    assert snapshot() == before
    assert json.loads(exported())["resources"] == json.loads(document)["resources"]


@pytest.mark.django_db
def test_health_history_is_exported_on_request_and_not_imported(wipe):
    item = ItemFactory(section=SectionFactory(collection=CollectionFactory()))
    LinkCheckFactory(resource=item.resource)
    document = json.loads(exported(include_health=True))
    assert document["health"][0]["url"] == item.resource.url
    assert len(document["health"][0]["checks"]) == 1
    wipe()

    report = import_catalogue(parse_json(json.dumps(document)))

    assert report.applied
    assert any("health history" in p.message for p in report.problems)


@pytest.mark.django_db
def test_a_bad_resource_in_a_backup_names_its_place_and_writes_nothing():
    document = {
        "format": "syllabus-catalogue",
        "version": 1,
        "resources": [
            {"url": "https://a.example.test/", "title": "A"},
            {"url": "https://b.example.test/", "difficulty": "expert"},
        ],
    }

    report = import_catalogue(parse_json(json.dumps(document)))

    assert not report.applied
    assert [(p.column, "expert" in p.message) for p in report.errors] == [
        ("resources[1].difficulty", True)
    ]
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("[" * 100_000 + "]" * 100_000, "nested"),
        (
            '{"format": "syllabus-catalogue", "version": 1, "topics": ' + "[" * 40 + "]" * 40 + "}",
            "nested",
        ),
        ("{not json", "not JSON"),
        ('{"resources": []}', "not a Syllabus catalogue"),
    ],
)
def test_hostile_or_foreign_json_is_refused_with_a_clear_error(text, message):
    with pytest.raises(FileRefused, match=message):
        parse_json(text)
