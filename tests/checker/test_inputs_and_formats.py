from __future__ import annotations

import io
import json

from curation.checker.findings import Finding
from curation.checker.formats import make_writer
from curation.checker.inputs import read_links
from curation.checker.outcomes import CheckResult, Hop, Outcome


def test_a_text_file_gives_one_url_per_line_with_line_numbers(tmp_path):
    source = tmp_path / "links.txt"
    source.write_text(
        "# reading list\n"
        "https://a.example/one\n"
        "\n"
        "   http://b.example/two  \n"
        "not a url\n"
        "ftp://files.example/x\n"
    )

    links = list(read_links(source))

    # Junk is given too: the engine reports it as invalid_url, with its line.
    assert [(link.url, link.line) for link in links] == [
        ("https://a.example/one", 2),
        ("http://b.example/two", 4),
        ("not a url", 5),
        ("ftp://files.example/x", 6),
    ]
    assert links[1].column == 4


def test_a_markdown_file_gives_inline_auto_and_bare_links(tmp_path):
    source = tmp_path / "notes.md"
    source.write_text(
        "# Notes\n"
        'See [the docs](https://docs.example/guide "Guide") and <https://auto.example/x>.\n'
        "Bare: https://bare.example/page, and [wiki](https://en.wikipedia.org/wiki/Set_(mathematics)).\n"
        "```\n"
        "https://inside-code.example/ignored\n"
        "```\n"
        "[relative](./other.md) (https://paren.example/a)\n"
    )

    links = [(link.url, link.line) for link in read_links(source)]

    assert links == [
        ("https://docs.example/guide", 2),
        ("https://auto.example/x", 2),
        ("https://bare.example/page", 3),
        ("https://en.wikipedia.org/wiki/Set_(mathematics)", 3),
        ("https://paren.example/a", 7),
    ]


def test_an_html_file_gives_absolute_anchor_links_only(tmp_path):
    source = tmp_path / "page.html"
    source.write_text(
        "<html><body>\n"
        '<a href="https://a.example/x">A</a>\n'
        '<a href="/relative">R</a> <a href="mailto:x@y.example">M</a>\n'
        '<p><a\n  href="http://b.example/y?q=1&amp;r=2">B</a></p>\n'
    )

    links = [(link.url, link.line) for link in read_links(source)]

    assert links == [("https://a.example/x", 2), ("http://b.example/y?q=1&r=2", 4)]


def sample_results():
    return [Finding.from_result(result) for result in _sample_check_results()]


def _sample_check_results():
    return [
        CheckResult(
            url="https://a.example/", outcome=Outcome.OK, status_code=200, rule="status-200"
        ),
        CheckResult(
            url="http://b.example/old",
            outcome=Outcome.REDIRECTED,
            status_code=200,
            final_url="https://b.example/new",
            redirects=[Hop("http://b.example/old", 301)],
            rule="redirect-permanent",
        ),
        CheckResult(
            url="x|y", outcome=Outcome.INVALID_URL, error="line 3: junk", rule="invalid-url"
        ),
    ]


def write_all(fmt):
    stream = io.StringIO()
    writer = make_writer(fmt, stream)
    writer.start()
    for result in sample_results():
        writer.write(result)
    writer.finish()
    return stream.getvalue()


def test_the_json_format_is_an_array_of_result_objects():
    payload = json.loads(write_all("json"))

    assert [item["outcome"] for item in payload] == ["ok", "redirected", "invalid_url"]
    assert payload[1]["redirects"] == [{"url": "http://b.example/old", "status": 301}]
    # Every field the engine reports, whatever it adds later.
    assert set(payload[0]) == set(_sample_check_results()[0].to_dict())


def test_the_json_format_of_nothing_is_an_empty_array():
    stream = io.StringIO()
    writer = make_writer("json", stream)
    writer.start()
    writer.finish()

    assert json.loads(stream.getvalue()) == []


def test_the_text_format_has_a_line_per_url_and_counts():
    text = write_all("text")

    assert "ok" in text.splitlines()[0] and "https://a.example/" in text.splitlines()[0]
    assert "-> https://b.example/new" in text
    assert "invalid-url: line 3: junk" in text
    assert text.rstrip().splitlines()[-1] == (
        "summary: 3 links: ok: 1, redirected: 1, invalid_url: 1"
    )


def test_the_markdown_format_is_a_table_with_escaped_cells():
    lines = write_all("markdown").splitlines()

    assert lines[0] == "| URL | Outcome | Status | Final URL | Rule |"
    assert lines[1].startswith("| ---")
    assert lines[3] == (
        "| http://b.example/old | redirected | 200 | https://b.example/new | redirect-permanent |"
    )
    assert lines[4].startswith("| x\\|y | invalid_url |")


def test_a_byte_order_mark_does_not_spoil_the_first_url(tmp_path):
    source = tmp_path / "links.txt"
    source.write_bytes("\ufeffhttps://a.example/one\r\nhttps://b.example/two\r\n".encode())

    links = list(read_links(source))

    assert [link.url for link in links] == ["https://a.example/one", "https://b.example/two"]


def test_a_url_in_markdown_inline_code_is_an_example_not_a_link(tmp_path):
    source = tmp_path / "notes.md"
    source.write_text("Run `curl https://api.example/v1` then read https://docs.example/v1.\n")

    assert [link.url for link in read_links(source)] == ["https://docs.example/v1"]
