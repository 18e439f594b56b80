from __future__ import annotations

from pathlib import Path

import pytest

from curation.models import Collection, CollectionItem, Resource
from curation.transfer.exporting import export_markdown
from curation.transfer.importing import import_catalogue
from curation.transfer.markdown import parse_markdown
from curation.transfer.records import WARNING

SEED = Path("/work/shared/seed/so-you-are-interested-in-deep-learning.linked.md")
if not SEED.exists():  # the seed is shared material; a copy travels with the tests
    SEED = Path(__file__).with_name("fixtures") / SEED.name

SECTIONS = [
    "Introduction",
    "Convolutions",
    "Gradient Descent",
    "RNNs",
    "Embeddings",
    "The math, as needed",
    "Practice",
    "What the student had found",
]


def outline(collection: Collection) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (section.title, [(item.resource.url, item.note) for item in section.items.all()])
        for section in collection.sections.all()
    ]


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_seed_post_becomes_one_collection_with_its_sections_in_order(seed_text):
    report = import_catalogue(parse_markdown(seed_text))

    assert report.applied and not report.errors
    collection = Collection.objects.get()
    assert collection.title == "So you are interested in deep learning"
    assert [s.title for s in collection.sections.all()] == SECTIONS
    assert Resource.objects.count() == 16
    assert CollectionItem.objects.count() == 16


@pytest.mark.django_db
def test_each_seed_link_keeps_its_sentence_as_the_note(seed_text):
    import_catalogue(parse_markdown(seed_text))

    notes = {item.resource.url: item.note for item in CollectionItem.objects.all()}
    assert notes["https://cs231n.github.io/"] == (
        "In my opinion, the best existing resource is the Stanford CNN course (course page)."
    )
    assert notes["https://setosa.io/ev/image-kernels/"] == (
        "fantastic interactive visualizations of convolutions"
    )
    assert notes["https://www.kaggle.com/competitions"] == (
        "It’s great that you’re doing Kaggle competitions."
    )
    assert notes["https://ujjwalkarn.me/2016/08/11/intuitive-explanation-convnets/"] == (
        "This blog post is a nice introductory overview to CNNs, including convolutions "
        "and max-pooling."
    )
    assert all(notes.values())


@pytest.mark.django_db
def test_the_three_linkless_items_are_reported_not_invented(seed_text):
    report = import_catalogue(parse_markdown(seed_text))

    warnings = [p for p in report.problems if p.severity == WARNING]
    assert [p.line for p in warnings] == [17, 23, 28]
    assert "Jeremy’s Intro to convolutions video" in warnings[0].message
    assert not Resource.objects.filter(title__icontains="Jeremy").exists()


@pytest.mark.django_db
def test_the_seed_exported_and_reimported_is_the_same_collection(seed_text):
    import_catalogue(parse_markdown(seed_text))
    first = Collection.objects.get()
    before = outline(first)
    exported = export_markdown(first)
    first.sections.all().delete()
    first.delete()
    Resource.objects.all().delete()

    report = import_catalogue(parse_markdown(exported))

    assert report.applied and not report.problems
    again = Collection.objects.get()
    assert (again.slug, again.title) == ("so-you-are-interested-in-deep-learning", first.title)
    assert outline(again) == before


@pytest.mark.django_db
def test_badges_images_anchors_and_relative_links_are_not_resources():
    text = (
        "# Awesome things [![Awesome](https://awesome.re/badge.svg)](https://awesome.re)\n\n"
        "## Contents\n\n- [Tools](#tools)\n- [Contributing](CONTRIBUTING.md)\n\n"
        "## Tools\n\n![logo](https://example.test/logo.png)\n\n"
        "* [Tool](https://tool.example.test/): does a thing.\n"
    )
    parsed = parse_markdown(text)

    assert [r.url for r in parsed.resources] == ["https://tool.example.test/"]
    items = parsed.collections[0].sections[-1].items
    assert [(i.url, i.note) for i in items] == [("https://tool.example.test/", "does a thing.")]


@pytest.mark.django_db
def test_links_inside_code_and_html_comments_are_not_items():
    text = "# L\n\n<!-- [a](https://a.example.test/) -->\n\n`[b](https://b.example.test/)`\n"

    assert parse_markdown(text).resources == []


@pytest.mark.django_db
def test_a_real_shaped_awesome_list_imports_without_errors():
    text = (Path(__file__).with_name("fixtures") / "awesome-sample.md").read_text()

    report = import_catalogue(parse_markdown(text))

    assert report.applied and not report.errors
    collection = Collection.objects.get()
    assert collection.title == "Awesome Python"
    sections = {s.title: [i.resource.url for i in s.items.all()] for s in collection.sections.all()}
    assert sections["Admin Panels"][0] == "https://github.com/ajenti/ajenti"
    assert len(sections["Algorithms and Design Patterns"]) == 4
    assert "https://code.example.test/" not in {r.url for r in Resource.objects.all()}
    assert not Resource.objects.filter(url__contains="awesome.re").exists()
    # Category labels ("Algorithms") are list items without links: warned, not invented.
    assert {p.line for p in report.problems} == {30, 33}


# --- Shapes found in real awesome lists (checked against three public lists, 2026-12-05) ------


def test_an_anchor_tag_above_a_heading_does_not_swallow_the_heading_or_its_links():
    # `<a name="x" />` alone on a line after a blank one opens an HTML block in CommonMark,
    # which would run to the next blank line and take the heading and its list with it.
    text = (
        "# Widgets\n\n"
        '<a name="tools" />\n## Tools\n\n'
        '<a name="tools-cli" />\n#### Command line\n'
        "* [Gadget](https://gadget.example.org/) - Turns knobs.\n"
        "* [Sprocket](https://sprocket.example.net/) - Spins things.\n\n"
        '<a id="guides"></a>\n## Guides\n\n'
        "- [Handbook](https://handbook.example.com/) - Read first.\n"
    )
    parsed = parse_markdown(text)
    sections = parsed.collections[0].sections
    assert [(s.title, [i.url for i in s.items]) for s in sections] == [
        ("Tools", []),
        ("Command line", ["https://gadget.example.org/", "https://sprocket.example.net/"]),
        ("Guides", ["https://handbook.example.com/"]),
    ]
    assert [(s.title, s.line) for s in sections] == [
        ("Tools", 4),
        ("Command line", 7),
        ("Guides", 12),
    ]
    assert parsed.problems == []


def test_markdown_swallowed_by_an_html_block_is_reported_not_dropped_in_silence():
    text = (
        "# Widgets\n\n"
        '<p align="center">\n  <a href="https://sponsor.example.org/">Sponsor</a>\n</p>\n\n'
        "<div>\n## Tools\n- [Lost](https://lost.example.org/) - Never read.\n\n"
        "## Guides\n\n- [Gadget](https://gadget.example.org/) - Turns knobs.\n"
    )
    parsed = parse_markdown(text)
    # The sponsor's HTML link is decoration; the list inside <div> is what the curator lost.
    assert [(p.line, p.severity) for p in parsed.problems] == [(7, WARNING)]
    assert "HTML block" in parsed.problems[0].message
    assert [r.url for r in parsed.resources] == ["https://gadget.example.org/"]


def test_a_repeat_in_a_long_section_is_found_by_its_normalized_address():
    items = [f"- [Item {n}](https://example.org/item/{n}) - Note {n}." for n in range(3000)]
    items.append("- [Again](https://EXAMPLE.org/item/7?utm_source=list) - Once more.")
    parsed = parse_markdown("# List\n\n## All\n\n" + "\n".join(items) + "\n")
    section = parsed.collections[0].sections[0]
    assert len(section.items) == 3000
    assert [(p.line, "kept once" in p.message) for p in parsed.problems] == [(3005, True)]
