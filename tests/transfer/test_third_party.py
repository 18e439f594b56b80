"""Other tools' exports, each from a fixture shaped as that tool writes it (README's table)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from curation.models import Collection, Resource
from curation.transfer.formats import parse_path
from curation.transfer.importing import import_catalogue

FIXTURES = Path(__file__).with_name("fixtures")

pytestmark = pytest.mark.django_db


def imported(name: str, **options):
    report = import_catalogue(parse_path(FIXTURES / name, **options))
    assert report.applied and not report.errors, report.problems
    return report


def topics_of(url_start: str) -> list[str]:
    resource = Resource.objects.get(url__startswith=url_start)
    return sorted(topic.slug for topic in resource.topics.all())


def test_linkding_json_maps_titles_notes_tags_and_dates():
    report = imported("linkding-bookmarks.json")

    assert report.format == "json (linkding)" and report.created["resource"] == 4
    book = Resource.objects.get(url="https://www.deeplearningbook.org/")
    assert book.title == "Deep Learning (Goodfellow, Bengio, Courville)"
    assert book.description == "The textbook, free to read online."
    assert book.curator_note == "Read chapters 6-9 after the fast.ai course."
    assert book.created_at == datetime(2024, 1, 2, 9, 30, 11, 482913, tzinfo=UTC)
    assert topics_of("https://www.deeplearningbook.org") == ["books", "deep-learning"]
    # No title of its own: linkding's fetched website title stands in.
    recipe = Resource.objects.get(url__startswith="https://karpathy.github.io/")
    assert recipe.title == "A Recipe for Training Neural Networks"
    momentum = Resource.objects.get(url="https://distill.pub/2017/momentum/")
    assert momentum.curator_note.endswith("Pairs well with the optimisation chapter.")
    assert momentum.created_at == datetime(2024, 5, 30, 5, 44, 52, 318, tzinfo=UTC)


def test_linkding_json_twice_skips_every_bookmark_by_normalized_url():
    imported("linkding-bookmarks.json")

    again = imported("linkding-bookmarks.json")

    assert not any(again.created.values()) and again.skipped == {"resource": 4}


def test_linkding_html_splits_description_and_notes_and_drops_its_archive_tag():
    report = imported("linkding-export.html", collection="linkding")

    assert report.created["resource"] == 4
    book = Resource.objects.get(url="https://www.deeplearningbook.org/")
    assert book.description == "The textbook, free to read online."
    assert book.created_at == datetime.fromtimestamp(1704187811, tz=UTC)
    items = {i.resource.url: i.note for i in Collection.objects.get().sections.get().items.all()}
    assert items["https://www.deeplearningbook.org/"] == (
        "Read chapters 6-9 after the fast.ai course."
    )
    assert items["https://distill.pub/2017/momentum/"] == (
        "Interactive: best on a laptop & not a phone."
    )
    assert items["https://www.3blue1brown.com/topics/neural-networks"] == (
        "Visual introduction; the videos are the best first step."
    )
    assert topics_of("https://karpathy.github.io") == ["deep-learning", "practice"]


def test_pocket_csv_maps_tags_and_time_added():
    report = imported("pocket-export.csv")

    assert report.format == "csv (pocket)" and report.created["resource"] == 4
    transformer = Resource.objects.get(url__startswith="https://jalammar.github.io/")
    assert transformer.title == "The Illustrated Transformer"
    assert transformer.created_at == datetime.fromtimestamp(1675209600, tz=UTC)
    assert topics_of("https://jalammar.github.io") == ["deep-learning", "transformers"]
    assert topics_of("https://karpathy.medium.com") == []


def test_raindrop_csv_maps_note_excerpt_tags_created_and_favorite():
    report = imported("raindrop-export.csv")

    assert report.format == "csv (raindrop)" and report.created["resource"] == 3
    d2l = Resource.objects.get(url="https://d2l.ai/")
    assert d2l.curator_note == "Free, with code in PyTorch, JAX and TensorFlow."
    assert d2l.description.startswith("Interactive deep learning book")
    assert d2l.featured and d2l.created_at == datetime(2024, 3, 1, 10, 22, 13, 612000, tzinfo=UTC)
    assert topics_of("https://d2l.ai") == ["books", "deep-learning"]
    assert not Resource.objects.get(url="https://cs229.stanford.edu/").featured
    warned = " ".join(p.message for p in report.problems)
    assert "folder" in warned and "cover" in warned and "highlights" in warned


def test_chromium_html_keeps_its_nested_folders_as_sections_and_skips_chrome_pages():
    report = imported("chromium-bookmarks.html", collection="browser")

    sections = Collection.objects.get().sections.all()
    assert [s.title for s in sections] == [
        "Bookmarks bar",
        "Bookmarks bar / Deep learning",
        "Other bookmarks",
    ]
    assert [s.items.count() for s in sections] == [1, 2, 1]
    assert report.created["resource"] == 4
    assert [p.line for p in report.problems] == [20]
