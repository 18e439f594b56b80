"""The linter's inputs and local verdicts: files, folders, globs and stdin; relative links and
#fragments against the file system; what is skipped and excluded. Nothing here leaves the
process: the links are relative, or excluded before any check."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest

from curation.checker.anchors import github_slug, markdown_anchors
from curation.checker.cli import main
from curation.checker.inputs import read_links
from curation.checker.lint import expand_inputs
from curation.checker.selection import parse_accept

DOCS = Path(__file__).parent / "fixtures" / "lint" / "docs"


def lint(capsys, *args, environ=None):
    code = main(list(args), environ=environ or {})
    out, err = capsys.readouterr()
    return code, out, err


def lint_json(capsys, *args, environ=None):
    code, out, err = lint(capsys, *args, "--format", "json", environ=environ)
    return code, json.loads(out), err


@pytest.fixture
def docs(tmp_path, monkeypatch):
    """A copy of the fixture folder, as the current directory (paths in reports are relative)."""
    shutil.copytree(DOCS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    return Path("docs")


# GitHub's heading anchors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("FAQ: what's new in 2.0?", "faq-whats-new-in-20"),
        ("The `code` and [a link](https://x.example) inside", "the-code-and-a-link-inside"),
        ("snake_case and _emphasis_", "snake_case-and-emphasis"),
        ("Café über alles", "café-über-alles"),
        ("C++ & C#", "c--c"),
        ("  Spaces  inside ", "--spaces--inside-"),
    ],
)
def test_a_heading_gets_githubs_anchor(heading, slug):
    assert github_slug(heading) == slug


def test_duplicate_headings_get_numbered_suffixes_and_ids_count_too():
    lines = ["# Notes\n", "## Notes\n", "### Notes\n", "Setext\n", "======\n", '<a id="x"></a>\n']

    assert markdown_anchors(lines) >= {"notes", "notes-1", "notes-2", "setext", "x", "top"}


def test_headings_inside_code_fences_are_not_anchors():
    assert "not-a-heading" not in markdown_anchors(["```\n", "# Not a heading\n", "```\n"])


# Inputs ---------------------------------------------------------------------------------------


def test_every_link_names_its_line_and_column(tmp_path):
    source = tmp_path / "list.md"
    source.write_text("# List\n\n- [One](https://one.example/) and <https://two.example/>\n")

    links = [(k.url, k.line, k.column) for k in read_links(source, every_link=True)]

    assert links == [("https://one.example/", 3, 9), ("https://two.example/", 3, 36)]


def test_inline_html_in_markdown_gives_its_links(tmp_path):
    source = tmp_path / "list.md"
    source.write_text(
        '<p align="center"><a href="docs/guide.md"><img src="logo.svg" alt=""></a></p>\n'
        '<a href="https://a.example/x">A</a>\n'
    )

    links = [(k.url, k.line) for k in read_links(source, every_link=True)]

    assert links == [("docs/guide.md", 1), ("logo.svg", 1), ("https://a.example/x", 2)]


def test_a_folder_is_searched_for_markdown_html_and_text_files(docs):
    names = [source.name for source in expand_inputs([str(docs)])]

    assert names == [
        "docs/guide.md", "docs/index.md", "docs/assets/diagram.txt", "docs/sub/page.html",
    ]  # fmt: skip


def test_globs_recurse_and_a_file_named_twice_is_read_once(docs):
    names = [s.name for s in expand_inputs(["docs/**/*.md", "docs/index.md", "docs/sub/*.html"])]

    assert names == ["docs/guide.md", "docs/index.md", "docs/sub/page.html"]


def test_a_glob_that_matches_nothing_is_a_usage_error(docs, capsys):
    code, out, err = lint(capsys, "--input", "docs/**/*.rst")

    assert code == 2 and out == ""
    assert "no file matches docs/**/*.rst" in err


def test_several_inputs_are_taken_in_one_run_by_input_and_as_arguments(docs, capsys):
    code, items, _ = lint_json(capsys, "--input", "docs/guide.md", "--input", "docs/sub/page.html")
    code_positional, positional, _ = lint_json(capsys, "docs/guide.md", "docs/sub/page.html")

    assert {item["file"] for item in items} == {"docs/guide.md", "docs/sub/page.html"}
    assert items == positional and code == code_positional == 1


def test_standard_input_is_read_as_markdown(capsys, monkeypatch):
    text = "# Title\n\n[top](#title) [gone](#nowhere) [file](other.md) [mail](mailto:a@b.example)\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    code, items, _ = lint_json(capsys, "-")

    assert [(i["file"], i["line"], i["url"], i["outcome"]) for i in items] == [
        ("<stdin>", 3, "#title", "ok"),
        ("<stdin>", 3, "#nowhere", "missing_anchor"),
        ("<stdin>", 3, "other.md", "skipped"),  # no base to resolve it against
        ("<stdin>", 3, "mailto:a@b.example", "skipped"),
    ]
    assert code == 1


# Relative links and anchors -------------------------------------------------------------------


def test_relative_links_and_fragments_are_checked_against_the_files(docs, capsys):
    code, items, _ = lint_json(capsys, str(docs))

    verdicts = {(i["file"], i["line"], i["url"]): (i["outcome"], i["rule"]) for i in items}
    assert verdicts[("docs/index.md", 8, "guide.md#install")] == ("ok", "anchor-found")
    assert verdicts[("docs/index.md", 11, "guide.md#faq-whats-new-in-20")][0] == "ok"
    assert verdicts[("docs/index.md", 12, "guide.md#notes-1")][0] == "ok"  # the second "Notes"
    assert verdicts[("docs/index.md", 14, "sub/page.html#legacy")][0] == "ok"  # <a name=>
    assert verdicts[("docs/index.md", 19, "#Getting-Started")][0] == "ok"  # any case
    assert verdicts[("docs/index.md", 17, "sub/")] == ("ok", "file-exists")
    assert verdicts[("docs/index.md", 10, "guide.md#configuration")] == (
        "missing_anchor", "no heading or id for #configuration"
    )  # fmt: skip
    assert verdicts[("docs/index.md", 20, "#nowhere")][0] == "missing_anchor"
    assert verdicts[("docs/index.md", 15, "missing.md")][0] == "missing_file"
    assert verdicts[("docs/sub/page.html", 8, "missing.html")][0] == "missing_file"
    assert verdicts[("docs/sub/page.html", 7, "../index.md#welcome")][0] == "ok"
    assert verdicts[("docs/guide.md", 18, "#setext-headings-count-too")][0] == "ok"
    assert verdicts[("docs/guide.md", 18, "sub/page.html#nope")][0] == "missing_anchor"
    # Links in code are examples; the reference definition at the end is a link.
    assert not [key for key in verdicts if "nope.md" in key[2] or "does-not-exist" in key[2]]
    assert ("docs/index.md", 32, "guide.md#install") in verdicts
    assert code == 1


def test_unchecked_kinds_are_counted_as_skipped_never_dropped(docs, capsys):
    _, out, _ = lint(capsys, "docs/index.md")

    assert "docs/index.md:21:26: skipped" in out and "mailto:maintainers@example.org" in out
    assert "docs/index.md:22:13: skipped" in out and "tel:+15555550100" in out
    summary = out.strip().splitlines()[-1]
    assert summary == (
        "summary: 15 links at 17 places: ok: 12, missing_file: 1, missing_anchor: 2, skipped: 2"
    )


def test_a_relative_link_is_reported_at_every_place_it_stands(docs, capsys):
    _, items, _ = lint_json(capsys, "docs/index.md")

    places = [(i["line"], i["column"]) for i in items if i["url"] == "guide.md#usage-step-by-step"]
    assert places == [(9, 25), (23, 19)]


def test_a_folder_with_only_good_links_exits_0(tmp_path, capsys):
    (tmp_path / "a.md").write_text("# A\n\nSee [b](b.md#b) and [here](#a).\n")
    (tmp_path / "b.md").write_text("# B\n")

    code, out, _ = lint(capsys, str(tmp_path))

    assert code == 0 and "summary: 2 links at 2 places: ok: 2" in out


# Selection ------------------------------------------------------------------------------------


def test_exclude_and_include_patterns_choose_what_is_checked(tmp_path, capsys):
    page = tmp_path / "list.md"
    page.write_text("[a](https://a.example/x) [c](missing.md) [d](missing.txt)\n")

    code, items, _ = lint_json(
        capsys, str(page), "--exclude", r"\.example/", "--exclude", "^missing",
        "--include", r"^missing\.md$",
    )  # fmt: skip

    outcomes = {i["url"]: i["outcome"] for i in items}
    assert outcomes == {
        "https://a.example/x": "excluded",
        "missing.md": "missing_file",  # included again, so checked
        "missing.txt": "excluded",
    }
    assert code == 1


def test_the_ignore_file_in_the_current_directory_excludes_links(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(".checklinksignore").write_text("# flaky hosts\n\n^https://a\\.example/\nmissing\n")
    Path("list.md").write_text("[a](https://a.example/x) [c](missing.md)\n")

    code, items, _ = lint_json(capsys, "list.md")

    assert [(i["outcome"], i["rule"]) for i in items] == [
        ("excluded", r"excluded by pattern ^https://a\.example/"),
        ("excluded", "excluded by pattern missing"),
    ]
    assert code == 0


def test_an_ignore_file_can_be_named(tmp_path, capsys):
    (tmp_path / "ignore").write_text("missing\n")
    (tmp_path / "list.md").write_text("[c](missing.md)\n")

    code, items, _ = lint_json(
        capsys, str(tmp_path / "list.md"), "--ignore-file", str(tmp_path / "ignore")
    )

    assert [i["outcome"] for i in items] == ["excluded"] and code == 0


def test_a_bad_pattern_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "list.md").write_text("[c](missing.md)\n")

    code, _, err = lint(capsys, str(tmp_path / "list.md"), "--exclude", "(unclosed")

    assert code == 2 and "(unclosed" in err


@pytest.mark.parametrize(
    ("switches", "excluded"),
    [
        (["--exclude-loopback"], {"http://127.0.0.1:9/a", "http://localhost:9/b", "http://[::1]:9/c"}),
        (["--exclude-private"], {"http://10.1.2.3/d", "http://192.168.0.1/e", "http://[fd00::1]/f"}),
        (["--exclude-link-local"], {"http://169.254.169.254/g", "http://[fe80::1]/h"}),
        (
            ["--exclude-all-private"],
            {"http://127.0.0.1:9/a", "http://localhost:9/b", "http://[::1]:9/c",
             "http://10.1.2.3/d", "http://192.168.0.1/e", "http://[fd00::1]/f",
             "http://169.254.169.254/g", "http://[fe80::1]/h"},
        ),
    ],
)  # fmt: skip
def test_address_classes_are_excluded_not_refused(tmp_path, capsys, switches, excluded):
    urls = [
        "http://127.0.0.1:9/a", "http://localhost:9/b", "http://[::1]:9/c", "http://10.1.2.3/d",
        "http://192.168.0.1/e", "http://[fd00::1]/f", "http://169.254.169.254/g",
        "http://[fe80::1]/h",
    ]  # fmt: skip
    (tmp_path / "links.txt").write_text("\n".join(urls) + "\n")

    code, items, _ = lint_json(capsys, str(tmp_path / "links.txt"), *switches)

    outcomes = {i["url"]: i["outcome"] for i in items}
    assert {url for url, outcome in outcomes.items() if outcome == "excluded"} == excluded
    # The rest still meets the guard, which refuses them without a connection.
    assert set(outcomes.values()) - {"excluded"} <= {"forbidden_target"}
    assert code == 0


@pytest.mark.parametrize(
    ("text", "codes"),
    [("200..299,403", {*range(200, 300), 403}), ("403", {403}), ("429-429, 999x", None)],
)
def test_accepted_codes_are_single_codes_or_ranges(text, codes):
    if codes is None:
        with pytest.raises(ValueError, match="999x"):
            parse_accept(text)
    else:
        assert parse_accept(text) == codes


# Help -----------------------------------------------------------------------------------------


def test_the_help_shows_the_linters_options_with_examples_and_no_djangos(capsys):
    code, out, _ = lint(capsys, "--input", "README.md", "--help")

    assert code == 0
    assert "examples:" in out and "--exclude REGEX" in out and "--per-host-interval" in out
    for django_option in ("--settings", "--traceback", "--pythonpath", "--verbosity"):
        assert django_option not in out


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("30m", 1800), ("12h", 43200), ("2d", 172800), ("1w", 604800)]
)
def test_cache_ages_take_units(text, seconds):
    from curation.checker.linkcache import parse_duration

    assert parse_duration(text) == seconds


def test_the_console_script_sends_the_catalogue_mode_to_manage_py():
    import subprocess

    script = Path(sys.executable).parent / "checklinks"
    completed = subprocess.run(
        [str(script), "--all"], capture_output=True, text=True, timeout=60
    )  # fmt: skip

    assert completed.returncode == 2
    assert "python manage.py checklinks" in completed.stderr
