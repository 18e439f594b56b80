"""CSV in and out: one resource a row, the API's fields, topics as `;`-separated slugs.

Pocket's CSV export (title,url,time_added,tags,status) and Raindrop's (id,title,note,
excerpt,url,folder,tags,created,...) are read through the same mapping: their tags become
topics (created when missing), their dates the resource's created_at.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from django.utils.text import slugify

from curation.reports.formats import CSV_FORMULA_PREFIXES
from curation.transfer.fields import RESOURCE_COLUMNS, read_resource_cells
from curation.transfer.limits import DEFAULT_LIMITS, FileRefused, Limits
from curation.transfer.records import WARNING, ParsedFile, Problem, ResourceRecord, TopicRecord

# Other tools' column names, mapped to ours; "tags" are free text, turned into topics.
POCKET = {"title": "title", "url": "url", "time_added": "created_at", "tags": "tags"}
RAINDROP = {
    "title": "title", "note": "curator_note", "excerpt": "description", "url": "url",
    "tags": "tags", "created": "created_at", "favorite": "featured",
}  # fmt: skip
TAG_SEPARATORS = {"pocket": "|", "raindrop": ","}
# A quote marks a guarded cell; a cell that starts with one is guarded too, so that the
# reader can always remove exactly one and get the value back.
GUARD = "'"


def guard_cell(value: Any) -> Any:
    """A value safe for a spreadsheet: one that would be read as a formula gets a quote."""
    if isinstance(value, str) and value.startswith((*CSV_FORMULA_PREFIXES, GUARD)):
        return GUARD + value
    return "" if value is None else value


def unguard_cell(value: str) -> str:
    if value.startswith(GUARD) and value[1:2] and value[1] in (*CSV_FORMULA_PREFIXES, GUARD):
        return value[1:]
    return value


def _dialect(header: list[str]) -> tuple[str, dict[str, str]]:
    names = set(header)
    if "time_added" in names and "url" in names and "difficulty" not in names:
        return "pocket", POCKET
    if {"excerpt", "folder", "url"} <= names:
        return "raindrop", RAINDROP
    return "syllabus", {name: name for name in RESOURCE_COLUMNS}


def _columns(header: list[str], mapping: dict[str, str]) -> dict[str, int | str]:
    """Each field's column number (from 1), shared by every row's record."""
    columns: dict[str, int | str] = {
        mapping[name]: index for index, name in enumerate(header, start=1) if name in mapping
    }
    if "tags" in columns:
        columns["topics"] = columns.pop("tags")
    columns["added_at"] = columns.get("created_at", "created_at")
    return columns


class TextLines:
    """A text's lines with their endings, from the start each time it is iterated, without
    copying it whole (io.StringIO would hold a second copy, four bytes a character)."""

    def __init__(self, text: str):
        self.text = text

    def __iter__(self) -> Iterator[str]:
        text, start = self.text, 0
        while start < len(text):
            end = text.find("\n", start)
            stop = len(text) if end == -1 else end + 1
            yield text[start:stop]
            start = stop


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line of the row, cells): a quoted cell may span lines."""
    reader = csv.reader(iter(lines))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"line {start}: the CSV cannot be read ({exc})") from None


def parse_csv(text: str, *, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    """The resources of a CSV text (parse_csv_lines)."""
    return parse_csv_lines(TextLines(text), limits=limits)


def parse_csv_lines(lines: Iterable[str], *, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    """The resources of a CSV file; bad cells become problems naming line and column.

    `lines` gives the file's lines afresh each time it is iterated (TextLines, or
    limits.LineSource to read a file without holding it). The file is read through once
    here (row count, CSV syntax); for our own columns the records are then made afresh each
    time they are iterated, so that an import holds a batch of rows rather than all of them.
    """
    parsed = ParsedFile(format="csv")
    rows = _rows(lines)
    header_row = next(rows, None)
    if header_row is None:
        raise FileRefused("the CSV file is empty: it needs a header row with a url column")
    header = [name.strip().lower() for name in header_row[1]]
    if "url" not in header:
        raise FileRefused("the CSV has no url column in its first row")
    dialect, mapping = _dialect(header)
    parsed.format = "csv" if dialect == "syllabus" else f"csv ({dialect})"
    ignored = [name for name in header if name not in mapping and name]
    if ignored:
        parsed.problem(1, f"columns not imported: {', '.join(ignored)}", severity=WARNING)
    count = 0
    for count, _ in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise FileRefused(f"the CSV has more than {limits.max_rows:,} rows")
    source = _CsvRows(lines, header, mapping, dialect)
    if dialect == "syllabus":
        parsed.resources = source  # type: ignore[assignment]
    else:
        # Other tools' tags become topics, which must be known before the rows: read now.
        parsed.resources = list(source)
        parsed.topics.extend(source.tags.values())
    return parsed


class _CsvRows:
    """The records of a CSV text, read afresh on each iteration (rows with no cells skipped)."""

    def __init__(
        self, lines: Iterable[str], header: list[str], mapping: dict[str, str], dialect: str
    ):
        self.lines = lines
        self.header = header
        self.mapping = mapping
        self.dialect = dialect
        self.columns = _columns(header, mapping)
        self.tags: dict[str, TopicRecord] = {}
        self.count: int | None = None

    def __len__(self) -> int:
        if self.count is None:
            self.count = sum(1 for _ in self)
        return self.count

    def __iter__(self) -> Iterator[ResourceRecord]:
        rows = _rows(self.lines)
        next(rows, None)
        for line, cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(self.header):
                message = f"the row has {len(cells)} cells, the header {len(self.header)}"
                yield ResourceRecord(url="", line=line, invalid=True, unreadable=True,
                                     problems=[Problem(line, message)])  # fmt: skip
                continue
            yield _record(line, self, cells)


def _record(line: int, source: _CsvRows, cells: list[str]) -> ResourceRecord:
    mapping, dialect = source.mapping, source.dialect
    named = {
        mapping[name]: unguard_cell(cell)
        for name, cell in zip(source.header, cells, strict=True)
        if name in mapping
    }
    if dialect != "syllabus":
        slugs = []
        for tag in str(named.pop("tags", "")).split(TAG_SEPARATORS[dialect]):
            slug = slugify(tag.strip())[:120]
            if slug:
                source.tags.setdefault(
                    slug, TopicRecord(slug, tag.strip()[:120], line=line, from_tag=True)
                )
                slugs.append(slug)
        named["topics"] = slugs
    fields, topics, added_at, errors = read_resource_cells(named)
    return ResourceRecord(
        url=str(named.get("url", "")).strip(),
        fields={k: v for k, v in fields.items() if k not in errors},
        topics=topics,
        added_at=added_at,
        line=line,
        columns=source.columns,
        invalid=bool(errors),
        problems=[
            Problem(line, f"{name}: {message}", column=source.columns.get(name))
            for name, message in errors.items()
        ],
    )


def write_csv(stream: TextIO, rows: Iterable[dict[str, Any]]) -> int:
    """Write resources (as fields.resource_cells gives them) as CSV; returns the row count."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(RESOURCE_COLUMNS)
    count = 0
    for row in rows:
        cells = {**row, "topics": ";".join(row["topics"])}
        if isinstance(cells["featured"], bool):
            cells["featured"] = "true" if cells["featured"] else "false"
        writer.writerow([guard_cell(cells[name]) for name in RESOURCE_COLUMNS])
        count += 1
    return count
