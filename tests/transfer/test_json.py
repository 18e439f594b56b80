from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from curation.demo.loader import load_demo
from curation.models import Collection, HealthTransition, LinkCheck, Resource, Topic
from curation.transfer.exporting import write_json
from curation.transfer.history import CHECK, STATE
from curation.transfer.importing import import_catalogue
from curation.transfer.jsonfile import parse_json
from curation.transfer.limits import FileRefused
from tests.factories import HealthTransitionFactory, LinkCheckFactory

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


def history_snapshot() -> dict:
    """Every resource's health fields, checks and transitions, by URL, without ids."""
    snap = {}
    for resource in Resource.objects.order_by("url"):
        checks = list(resource.checks.order_by("checked_at", "id"))
        position = {check.pk: n for n, check in enumerate(checks)}
        snap[resource.url] = {
            "state": {name: getattr(resource, name) for name in STATE},
            "checks": [{name: getattr(c, name) for name in CHECK} for c in checks],
            "transitions": [
                (t.at, t.from_state, t.to_state, t.reason, position.get(t.link_check_id))
                for t in resource.transitions.order_by("at", "id")
            ],
        }
    return snap


def with_history_of_every_kind() -> None:
    """The demo catalogue with checks and transitions of every shape the checker writes."""
    load_demo()
    first, second = Resource.objects.order_by("id")[:2]
    moment = timezone.now().replace(microsecond=123456) - timedelta(days=3)
    broken = LinkCheckFactory(
        resource=first, checked_at=moment, outcome="not_found", status_code=404,
        final_url=first.url + "gone", redirect_chain=[[301, first.url + "old"]],
        elapsed_ms=120, error="", rule="status", evidence="the page said 404",
        source="manual", dispatch_token="tok-1", counted=True,
    )  # fmt: skip
    LinkCheckFactory(resource=first, checked_at=moment + timedelta(hours=5), outcome="timeout",
                     status_code=None, error="read timed out", counted=False)  # fmt: skip
    HealthTransitionFactory(resource=first, from_state="healthy", to_state="broken",
                            at=moment, link_check=broken, reason="three failures")  # fmt: skip
    HealthTransitionFactory(resource=second, from_state="unknown", to_state="healthy",
                            at=moment, link_check=None)  # fmt: skip
    Resource.objects.filter(pk=first.pk).update(
        health="broken", health_changed_at=moment, last_checked_at=moment,
        last_outcome="not_found", last_status_code=404, next_check_at=moment + timedelta(days=1),
        consecutive_failures=3, first_failure_at=moment - timedelta(days=2),
        consecutive_blocked=1, consecutive_moves=2, suggested_url="https://new.example.test/",
        snoozed_until=moment + timedelta(days=9),
    )  # fmt: skip


@pytest.mark.django_db
def test_the_health_history_survives_a_json_round_trip_field_by_field(wipe):
    with_history_of_every_kind()
    before, catalogue = history_snapshot(), snapshot()
    document = exported(with_history=True)
    wipe()

    report = import_catalogue(parse_json(document), with_history=True)

    assert report.applied and not report.errors, report.problems
    assert report.created["check"] == 2 and report.created["transition"] == 2
    assert history_snapshot() == before
    assert snapshot() == catalogue
    assert json.loads(exported(with_history=True))["health"] == json.loads(document)["health"]


@pytest.mark.django_db
def test_without_with_history_the_history_is_named_and_left_out(wipe):
    with_history_of_every_kind()
    document = exported(with_history=True)
    wipe()

    report = import_catalogue(parse_json(document))

    assert report.applied
    assert any("--with-history" in p.message for p in report.problems)
    assert not LinkCheck.objects.exists() and not HealthTransition.objects.exists()


@pytest.mark.django_db
def test_a_resource_already_in_the_catalogue_keeps_its_own_history():
    with_history_of_every_kind()
    before = history_snapshot()
    document = exported(with_history=True)

    report = import_catalogue(parse_json(document), with_history=True)

    assert report.applied and not report.errors
    warned = [p for p in report.problems if "keeps its own health history" in p.message]
    assert len(warned) == len(json.loads(document)["health"])
    assert history_snapshot() == before


@pytest.mark.django_db
def test_a_bad_check_in_the_history_names_its_path_and_writes_nothing(wipe):
    with_history_of_every_kind()
    document = json.loads(exported(with_history=True))
    wipe()
    entry = next(e for e in document["health"] if e["checks"])
    index = document["health"].index(entry)
    entry["checks"][0]["checked_at"] = "yesterday"
    entry["transitions"][0]["to_state"] = "dead"

    report = import_catalogue(parse_json(json.dumps(document)), with_history=True)

    assert not report.applied
    assert [p.column for p in report.errors] == [
        f"health[{index}].checks[0].checked_at",
        f"health[{index}].transitions[0].to_state",
    ]
    assert not Resource.objects.exists() and not LinkCheck.objects.exists()


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
