from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from curation.models import Collection, Resource
from curation.transfer import limits

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_resources_brings_in_the_seed_and_reports_the_linkless_items():
    output = run("import_resources", str(SEED), "--collection", "deep-learning")

    assert Collection.objects.get().slug == "deep-learning"
    assert Resource.objects.count() == 16
    assert "line 17" in output and "created 8 collection" not in output
    assert "16 resource" in output


def test_a_dry_run_writes_nothing():
    output = run("import_resources", str(SEED), "--dry-run")

    assert "dry run" in output and "16 resource" in output
    assert not Resource.objects.exists()


def test_a_csv_with_errors_fails_the_command_and_writes_nothing(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("url,title\nhttps://a.example.test/,A\nnot a url,B\n")

    with pytest.raises(CommandError, match="1 errors: nothing was imported"):
        run("import_resources", str(path))
    assert not Resource.objects.exists()

    run("import_resources", str(path), "--import-valid-rows")
    assert Resource.objects.count() == 1


def test_an_oversized_file_is_refused_without_being_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "current_limits", lambda: limits.Limits(max_bytes=1000))
    path = tmp_path / "huge.csv"
    path.write_bytes(b"url\n" + b"x" * 5000)

    with pytest.raises(CommandError, match="larger than 1,000 bytes"):
        run("import_resources", str(path))


def test_a_giant_line_is_refused_with_its_number(tmp_path):
    path = tmp_path / "line.md"
    path.write_text("# T\n\n" + "a" * (limits.MAX_LINE_LENGTH + 1) + "\n")

    with pytest.raises(CommandError, match="line 3 is longer than"):
        run("import_resources", str(path))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00b\x00i\x00n", "binary"),
        (b"url\n\xe9t\xe9\n", "not UTF-8"),
    ],
)
def test_undecodable_files_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        run("import_resources", str(path))


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="cannot read it"):
        run("import_resources", "/nonexistent/list.md")


def test_export_resources_writes_each_format(tmp_path):
    run("import_resources", str(SEED), "--collection", "deep-learning")
    target = tmp_path / "out.json"

    run("export_resources", "-o", str(target))
    assert len(json.loads(target.read_text())["resources"]) == 16
    assert run("export_resources", "--format", "csv").count("\n") == 17
    assert run(
        "export_resources", "--format", "markdown", "--collection", "deep-learning"
    ).startswith("# So you are interested")
    assert "<!DOCTYPE NETSCAPE-Bookmark-file-1>" in run("export_resources", "--format", "netscape")


def test_markdown_export_needs_a_collection():
    with pytest.raises(CommandError, match="give --collection"):
        run("export_resources", "--format", "markdown")


def test_the_progress_bar_is_drawn_on_a_terminal_only(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "list.csv"
    path.write_text("url\nhttps://a.example.test/\n")
    drawn = io.StringIO()
    drawn.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", drawn)
    run("import_resources", str(path), "--dry-run")
    assert "importing [" in drawn.getvalue() and "1/1" in drawn.getvalue()

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    run("import_resources", str(path), "--dry-run")
    assert piped.getvalue() == ""
