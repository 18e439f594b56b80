"""Duplicates inside a file are found across batches, through the import's temporary table."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from curation.models import Resource
from curation.transfer import importing, seen
from curation.transfer.csvfile import parse_csv
from curation.transfer.importing import import_catalogue
from curation.transfer.jsonfile import parse_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)


@pytest.fixture
def tables(monkeypatch) -> list[str]:
    """The names of the temporary tables the imports of the test made."""
    made: list[str] = []
    original = seen.SeenAddresses.__init__

    def remember(self) -> None:
        original(self)
        made.append(self.table)

    monkeypatch.setattr(seen.SeenAddresses, "__init__", remember)
    return made


def table_exists(quoted: str) -> bool:
    name = quoted.strip('"')
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{name}"])
        else:
            cursor.execute("SELECT count(*) FROM sqlite_temp_master WHERE name = %s", [name])
        return bool(cursor.fetchone()[0])


def csv_rows(count: int) -> str:
    return "url,title\n" + "".join(f"https://r{n}.example.test/,R{n}\n" for n in range(count))


def test_a_duplicate_batches_later_names_the_first_line_and_column(small_batches):
    # Lines 2-8: the row on line 8 repeats line 3's address (tracking parameter and all),
    # three batches later.
    text = csv_rows(6) + "https://r1.example.test/?utm_source=list,Again\n"

    report = import_catalogue(parse_csv(text))

    assert [(p.line, p.column, p.message) for p in report.errors] == [
        (8, 1, "duplicate inside the file: same address as line 3")
    ]
    assert not report.applied and not Resource.objects.exists()


def test_a_duplicate_inside_one_batch_is_found_too(small_batches):
    text = "url,title\nhttps://a.example.test/,A\nhttps://a.example.test/#top,A again\n"

    report = import_catalogue(parse_csv(text))

    assert [p.message for p in report.errors] == [
        "duplicate inside the file: same address as line 2"
    ]


def test_a_dry_run_finds_a_duplicate_batches_later_though_nothing_was_written(small_batches):
    text = csv_rows(5) + "https://r0.example.test/,Again\n"

    report = import_catalogue(parse_csv(text), dry_run=True)

    assert [(p.line, p.message) for p in report.errors] == [
        (7, "duplicate inside the file: same address as line 2")
    ]


def test_a_json_duplicate_batches_later_names_the_first_entrys_path(small_batches):
    urls = [f"https://j{n}.example.test/" for n in range(5)] + ["https://j0.example.test/"]
    document = {
        "format": "syllabus-catalogue",
        "version": 1,
        "resources": [{"url": url, "title": "T"} for url in urls],
    }

    report = import_catalogue(parse_json(json.dumps(document)))

    assert [(p.column, p.message) for p in report.errors] == [
        ("resources[5].url", "duplicate inside the file: same address as resources[0].url")
    ]
    assert not Resource.objects.exists()


def test_valid_rows_around_a_duplicate_are_imported_when_asked(small_batches):
    text = csv_rows(3) + "https://r2.example.test/,Again\n"

    report = import_catalogue(parse_csv(text), import_valid_rows=True)

    assert report.applied and len(report.errors) == 1
    assert Resource.objects.count() == 3


@pytest.mark.parametrize(
    "options",
    [{}, {"dry_run": True}],
    ids=["imported", "dry run"],
)
def test_the_temporary_table_is_dropped_when_an_import_ends(small_batches, tables, options):
    report = import_catalogue(parse_csv(csv_rows(5)), **options)

    assert report.created == {"resource": 5} and len(tables) == 1
    assert not table_exists(tables[0])


def test_the_temporary_table_is_gone_after_a_refused_import(small_batches, tables):
    report = import_catalogue(parse_csv(csv_rows(3) + "nope,Bad\n"))

    assert report.errors and not table_exists(tables[0])


def test_the_temporary_table_is_gone_after_an_import_that_crashed(
    small_batches, tables, monkeypatch
):
    def crash(*args, **kwargs):
        raise RuntimeError("a bug half-way through")

    monkeypatch.setattr(importing.services, "create_resources_in_bulk", crash)

    with pytest.raises(RuntimeError):
        import_catalogue(parse_csv(csv_rows(5)))

    assert len(tables) == 1 and not table_exists(tables[0])
    assert not Resource.objects.exists()
