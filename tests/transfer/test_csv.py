from __future__ import annotations

import io

import pytest

from curation.models import Difficulty, Resource
from curation.transfer.csvfile import guard_cell, parse_csv, unguard_cell
from curation.transfer.exporting import export_csv
from curation.transfer.importing import import_catalogue
from curation.transfer.limits import FileRefused
from tests.factories import ResourceFactory, TopicFactory

HEADER = "url,title,difficulty,topics,duration_minutes,featured\n"


def csv_of(*rows: str) -> str:
    return HEADER + "".join(row + "\n" for row in rows)


@pytest.mark.django_db
def test_good_rows_are_created_with_their_topics():
    TopicFactory(slug="python", name="Python")
    TopicFactory(slug="web", name="Web")

    report = import_catalogue(
        parse_csv(csv_of("https://a.example.test/,A,intermediate,python;web,30,true"))
    )

    assert report.applied and report.created == {"resource": 1}
    resource = Resource.objects.get()
    assert (resource.title, resource.difficulty, resource.duration_minutes, resource.featured) == (
        "A",
        Difficulty.INTERMEDIATE,
        30,
        True,
    )
    assert sorted(t.slug for t in resource.topics.all()) == ["python", "web"]


@pytest.mark.django_db
def test_a_mix_of_good_and_bad_rows_writes_nothing_and_names_each_line_and_column():
    existing = ResourceFactory(url="https://taken.example.test/page", title="Taken")
    text = csv_of(
        "https://ok.example.test/,Fine,beginner,,,",
        "ftp://files.example.test/x,Bad scheme,beginner,,,",
        "https://ok2.example.test/,Bad level,expert,,,",
        "https://ok.example.test/?utm_source=x,Same page,beginner,,,",
        "https://taken.example.test/page/,Taken again,beginner,,,",
        "https://ok3.example.test/,Unknown topic,beginner,nope,,",
        "https://ok4.example.test/,Bad duration,beginner,,ten,",
    )

    report = import_catalogue(parse_csv(text), on_duplicate="fail")

    assert not report.applied
    assert Resource.objects.count() == 1
    found = [(p.line, p.column) for p in report.errors]
    assert found == [(3, 1), (4, 3), (5, 1), (6, 1), (7, 4), (8, 5)]
    messages = " ".join(p.message for p in report.errors)
    assert "unknown difficulty 'expert'" in messages
    assert "same address as line 2" in messages
    assert f"resource #{existing.pk}" in messages


@pytest.mark.django_db
def test_import_valid_rows_writes_the_good_rows_only():
    text = csv_of("https://ok.example.test/,Fine,beginner,,,", "https://x.example.test/,,nope,,,")

    report = import_catalogue(parse_csv(text), import_valid_rows=True)

    assert report.applied
    assert list(Resource.objects.values_list("url", flat=True)) == ["https://ok.example.test/"]
    assert [(p.line, p.column) for p in report.errors] == [(3, 3)]


@pytest.mark.django_db
def test_a_dry_run_reports_what_would_happen_and_writes_nothing(broker_messages):
    report = import_catalogue(parse_csv(csv_of("https://a.example.test/,A,,,,")), dry_run=True)

    assert report.created == {"resource": 1} and not report.applied
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_duplicates_against_the_catalogue_are_skipped_or_updated_by_choice():
    existing = ResourceFactory(url="https://www.youtube.com/watch?v=dQw4w9WgXcQ", title="Old")
    text = csv_of("https://youtu.be/dQw4w9WgXcQ,New,advanced,,,")

    skipped = import_catalogue(parse_csv(text))
    assert skipped.skipped == {"resource": 1}
    assert f"resource #{existing.pk}" in skipped.problems[0].message

    updated = import_catalogue(parse_csv(text), on_duplicate="update")
    existing.refresh_from_db()
    assert updated.updated == {"resource": 1}
    assert (existing.title, existing.difficulty) == ("New", Difficulty.ADVANCED)


@pytest.mark.django_db
def test_csv_export_then_import_into_an_empty_database_gives_the_same_resources(wipe):
    topic = TopicFactory(slug="maths", name="Maths")
    ResourceFactory(
        url="https://a.example.test/",
        title="=HYPERLINK(1)",
        topics=[topic],
        curator_note="line one\nline two",
        duration_minutes=12,
        featured=True,
    )
    ResourceFactory(url="https://b.example.test/x?q=1", title="'quoted", description="-minus")
    buffer = io.StringIO()
    export_csv(buffer)
    text = buffer.getvalue()
    assert "'=HYPERLINK(1)" in text
    before = list(Resource.objects.order_by("url").values())
    Resource.objects.all().delete()

    report = import_catalogue(parse_csv(text))

    assert report.applied and not report.errors
    after = list(Resource.objects.order_by("url").values())
    ignore = {
        "id",
        "updated_at",
        "health",
        "next_check_at",
        "health_changed_at",
        "last_checked_at",
        "last_outcome",
        "last_status_code",
    }
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ignore} for r in rows]  # noqa: E731
    assert strip(after) == strip(before)


def test_the_formula_guard_reads_back_to_the_same_text():
    for value in ["=1+1", "+x", "-y", "@z", "'q", "''r", "plain", "", "\tt"]:
        assert unguard_cell(guard_cell(value)) == value


@pytest.mark.django_db
def test_pocket_and_raindrop_exports_import_with_tags_as_topics():
    pocket = (
        "title,url,time_added,tags,status\n"
        "A,https://a.example.test/,1700000000,ml|Deep Learning,unread\n"
    )
    raindrop = (
        "id,title,note,excerpt,url,folder,tags,created,cover,highlights,favorite\n"
        '1,B,my note,an excerpt,https://b.example.test/,Unsorted,"ml, python",'
        "2024-01-02T03:04:05.000Z,,,true\n"
    )

    assert import_catalogue(parse_csv(pocket)).applied
    assert import_catalogue(parse_csv(raindrop)).applied

    a = Resource.objects.get(url="https://a.example.test/")
    assert sorted(t.slug for t in a.topics.all()) == ["deep-learning", "ml"]
    assert a.created_at.year == 2023
    b = Resource.objects.get(url="https://b.example.test/")
    assert (b.curator_note, b.description, b.featured) == ("my note", "an excerpt", True)
    assert sorted(t.slug for t in b.topics.all()) == ["ml", "python"]


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("title\nA\n", "no url column"), ('url\n"unclosed\n' + "x" * 10, "")],
)
def test_files_that_are_not_a_usable_csv_are_refused(text, message):
    if not message:
        parsed = parse_csv(text)  # an unclosed quote swallows the rest: one bad URL
        assert len(parsed.resources) == 1
        return
    with pytest.raises(FileRefused, match=message):
        parse_csv(text)
