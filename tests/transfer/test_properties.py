"""Round-trip properties: whatever a curator wrote, each format reads back the same."""

from __future__ import annotations

import io
import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from curation.transfer.csvfile import parse_csv, write_csv
from curation.transfer.fields import RESOURCE_COLUMNS
from curation.transfer.jsonfile import parse_json
from curation.transfer.markdown import parse_markdown, render_markdown
from curation.transfer.netscape import parse_netscape, render_netscape

# Letters of several scripts, digits, spaces and every ASCII punctuation mark: what
# titles and notes are made of, Markdown's special characters included.
CHARS = st.characters(
    codec="utf-8",
    categories=("L", "N", "P", "S", "Zs"),
    exclude_characters="\x00\r\n\t\x0b\x0c\u2028\u2029\x85",
)
ONE_LINE = st.text(CHARS, max_size=40).map(lambda t: " ".join(t.split()))
TITLE = ONE_LINE.filter(bool)
ANY_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00\r"),
    max_size=60,
)
HOST = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
PATH = st.text(string.ascii_letters + string.digits + "-._~()", max_size=12)
URL = st.builds(lambda h, p, i: f"https://{h}.example.test/{i}/{p}", HOST, PATH, st.integers(0, 9))


@st.composite
def outlines(draw):
    urls = draw(st.lists(URL, min_size=1, max_size=8, unique=True))
    section_titles = draw(st.lists(TITLE, min_size=1, max_size=4, unique=True))
    sections = [{"title": t, "intro": "", "items": []} for t in section_titles]
    for url in urls:
        section = draw(st.sampled_from(sections))
        section["items"].append({"title": draw(ONE_LINE), "url": url, "note": draw(ONE_LINE)})
    return {"title": draw(TITLE), "intro": "", "sections": sections}


def read_back_markdown(text: str) -> dict:
    parsed = parse_markdown(text)
    collection = parsed.collections[0]
    titles = {r.url: r.fields["title"] for r in parsed.resources}
    return {
        "title": collection.title,
        "intro": collection.intro,
        "sections": [
            {
                "title": s.title,
                "intro": s.intro,
                "items": [{"title": titles[i.url], "url": i.url, "note": i.note} for i in s.items],
            }
            for s in collection.sections
        ],
    }


@settings(max_examples=150, deadline=None)
@given(outlines())
def test_markdown_reads_back_the_outline_it_wrote(outline):
    assert read_back_markdown(render_markdown(outline)) == outline


@settings(max_examples=150, deadline=None)
@given(outlines())
def test_a_netscape_file_reads_back_the_folders_and_notes_it_wrote(outline):
    folders = [
        (s["title"], [{**i, "add_date": 1_600_000_000 + n} for n, i in enumerate(s["items"])])
        for s in outline["sections"]
    ]
    parsed = parse_netscape(render_netscape(outline["title"], folders))

    records = {r.url: r for r in parsed.resources}
    collection = parsed.collections[0]
    assert collection.title == outline["title"]
    assert [s.title for s in collection.sections] == [s["title"] for s in outline["sections"]]
    for section, written in zip(collection.sections, folders, strict=True):
        assert [(i.url, i.note) for i in section.items] == [
            (e["url"], e["note"]) for e in written[1]
        ]
        for entry in written[1]:
            record = records[entry["url"]]
            assert record.fields["title"] == (entry["title"] or entry["url"])
            assert record.added_at == str(entry["add_date"])


def resource_rows():
    return st.fixed_dictionaries(
        {
            "url": URL,
            "title": ANY_TEXT,
            "description": ANY_TEXT,
            "kind": st.sampled_from(["article", "video", "book"]),
            "difficulty": st.sampled_from(["beginner", "intermediate", "advanced"]),
            "topics": st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), max_size=3),
            "author": ANY_TEXT,
            "publisher": ANY_TEXT,
            "language": st.sampled_from(["", "en", "fr-CA"]),
            "duration_minutes": st.none() | st.integers(0, 100_000),
            "cost": st.sampled_from(["free", "paid"]),
            "curator_note": ANY_TEXT,
            "featured": st.booleans(),
            "status": st.sampled_from(["draft", "published"]),
            "created_at": st.just("2024-01-02T03:04:05+00:00"),
        }
    )


def expected_fields(row: dict) -> dict:
    fields = {k: v for k, v in row.items() if k not in ("url", "topics", "created_at")}
    fields["difficulty"] = ["beginner", "intermediate", "advanced"].index(row["difficulty"]) + 1
    return fields


@settings(max_examples=150, deadline=None)
@given(st.lists(resource_rows(), min_size=1, max_size=5))
def test_csv_reads_back_every_field_it_wrote_formulas_and_newlines_included(rows):
    buffer = io.StringIO()
    write_csv(buffer, rows)
    parsed = parse_csv(buffer.getvalue())

    assert not parsed.problems
    assert [r.url for r in parsed.resources] == [row["url"] for row in rows]
    for record, row in zip(parsed.resources, rows, strict=True):
        assert record.fields == expected_fields(row)
        assert (record.topics, record.added_at) == (row["topics"], row["created_at"])


@settings(max_examples=100, deadline=None)
@given(st.lists(resource_rows(), min_size=1, max_size=5))
def test_json_reads_back_every_field_it_wrote(rows):
    document = {"format": "syllabus-catalogue", "version": 1, "resources": rows}
    parsed = parse_json(json.dumps(document))

    for record, row in zip(parsed.resources, rows, strict=True):
        assert record.fields == expected_fields(row)
        assert record.topics == row["topics"]


def test_the_csv_header_is_the_apis_fields():
    assert RESOURCE_COLUMNS[0] == "url" and "topics" in RESOURCE_COLUMNS
