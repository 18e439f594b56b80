from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from curation.models import Collection, Resource, Topic
from curation.transfer.exporting import export_netscape
from curation.transfer.importing import import_catalogue
from curation.transfer.limits import FileRefused, Limits
from curation.transfer.netscape import parse_netscape

FIREFOX = (Path(__file__).with_name("fixtures") / "firefox-bookmarks.html").read_text()


@pytest.mark.django_db
def test_folders_become_sections_in_order_with_descriptions_as_notes():
    report = import_catalogue(parse_netscape(FIREFOX, collection_slug="bookmarks"))

    assert report.applied and not report.errors
    collection = Collection.objects.get(slug="bookmarks")
    assert collection.title == "Bookmarks Menu"
    outline = [
        (s.title, [(i.resource.url, i.note) for i in s.items.all()])
        for s in collection.sections.all()
    ]
    assert outline == [
        ("Machine learning", [("https://course.fast.ai/", "Top-down & code first."),
                              ("https://colah.github.io/", "")]),
        ("Machine learning / Papers", [("https://arxiv.org/abs/1706.03762?utm_source=feed", "")]),
        ("Bookmarks", [("https://www.python.org/", "The language")]),
    ]  # fmt: skip


@pytest.mark.django_db
def test_tags_become_topics_and_add_date_becomes_created_at():
    import_catalogue(parse_netscape(FIREFOX))

    fast = Resource.objects.get(url="https://course.fast.ai/")
    assert sorted(t.slug for t in fast.topics.all()) == ["course", "ml"]
    assert int(fast.created_at.timestamp()) == 1480000000
    assert fast.title == "Practical Deep Learning"


@pytest.mark.django_db
def test_folders_may_become_topics_instead_nested_as_children():
    parsed = parse_netscape(FIREFOX, folders_as="topics")
    report = import_catalogue(parsed)

    assert report.applied and not Collection.objects.exists()
    papers = Topic.objects.get(slug="machine-learning-papers")
    assert papers.parent.slug == "machine-learning"
    attention = Resource.objects.get(url__contains="arxiv")
    assert sorted(t.slug for t in attention.topics.all()) == ["machine-learning-papers", "ml"]
    python = Resource.objects.get(url="https://www.python.org/")
    assert python.curator_note == "The language"


def test_places_and_javascript_bookmarks_are_reported_not_imported():
    parsed = parse_netscape(FIREFOX)

    assert any("place:" in p.message for p in parsed.problems)
    assert all(r.url.startswith("http") for r in parsed.resources)


class _Structure(HTMLParser):
    """Counts what a browser's importer walks: DL nesting and DT entries."""

    def __init__(self):
        super().__init__()
        self.depth = self.max_depth = self.anchors = self.folders = 0

    def handle_starttag(self, tag, attrs):
        if tag == "dl":
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
        self.anchors += tag == "a"
        self.folders += tag == "h3"

    def handle_endtag(self, tag):
        self.depth -= tag == "dl"


@pytest.mark.django_db
def test_the_export_has_the_browsers_structure_and_reads_back_the_same(wipe):
    import_catalogue(parse_netscape(FIREFOX, collection_slug="bookmarks"))
    collection = Collection.objects.get()
    before = [
        (s.title, [(i.resource.url, i.note) for i in s.items.all()])
        for s in collection.sections.all()
    ]
    exported = export_netscape(collection)

    assert exported.startswith("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n")
    assert '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">' in exported
    structure = _Structure()
    structure.feed(exported)
    assert (structure.depth, structure.max_depth, structure.anchors, structure.folders) == (
        0,
        2,
        4,
        3,
    )
    wipe()
    import_catalogue(parse_netscape(exported, collection_slug="bookmarks"))
    again = Collection.objects.get()
    assert [
        (s.title, [(i.resource.url, i.note) for i in s.items.all()]) for s in again.sections.all()
    ] == before
    fast = Resource.objects.get(url="https://course.fast.ai/")
    assert int(fast.created_at.timestamp()) == 1480000000


def test_a_folder_bomb_is_refused_with_a_clear_error():
    bomb = "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n" + "<DL><p>" * 10_000

    with pytest.raises(FileRefused, match="nested more than 32 deep"):
        parse_netscape(bomb)


def test_a_tag_flood_is_refused_with_a_clear_error():
    flood = "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n" + "<b>" * 1_001

    with pytest.raises(FileRefused, match="more than 1,000 tags"):
        parse_netscape(flood, limits=Limits(max_html_tags=1_000))


def test_a_file_that_is_not_a_bookmark_file_is_refused():
    with pytest.raises(FileRefused, match="not a Netscape bookmark file"):
        parse_netscape("<html><body>hello</body></html>")
