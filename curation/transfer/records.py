"""What a parsed file holds, before anything is written: plain dataclasses, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
# Not a problem with the file: what happened to a row (a duplicate skipped, naming the existing).
INFO = "info"


@dataclass
class Problem:
    """Something wrong at a place in the file; errors stop an all-or-nothing import."""

    line: int | None
    message: str
    column: int | str | None = None
    severity: str = ERROR

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.severity}: {self.message}"


@dataclass
class ResourceRecord:
    """One resource as the file describes it; `fields` are Resource's writable fields."""

    url: str
    fields: dict[str, Any] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    # When the source says it was added (Netscape ADD_DATE, a backup's created_at).
    added_at: str | None = None
    line: int | None = None
    # Column name (CSV header) or number for each field, so a problem can point at its cell.
    columns: dict[str, int | str] = field(default_factory=dict)
    # Set by a parser that found a problem with this row (in `problems`): never imported.
    invalid: bool = False
    problems: list[Problem] = field(default_factory=list)
    # The row could not be read into fields at all (a CSV row with the wrong cell count).
    unreadable: bool = False


@dataclass
class ItemRecord:
    url: str
    note: str = ""
    required: bool = True
    line: int | None = None


@dataclass
class SectionRecord:
    title: str
    intro: str = ""
    items: list[ItemRecord] = field(default_factory=list)
    line: int | None = None


@dataclass
class CollectionRecord:
    slug: str
    title: str
    intro: str = ""
    status: str | None = None
    author_name: str = ""
    published_on: str | None = None
    sections: list[SectionRecord] = field(default_factory=list)
    line: int | None = None


@dataclass
class TopicRecord:
    slug: str
    name: str
    description: str = ""
    parent: str | None = None
    prerequisites: list[str] = field(default_factory=list)
    line: int | None = None
    # A bookmark's tag: an existing topic of that slug is simply reused, whatever on_duplicate.
    from_tag: bool = False


@dataclass
class HistoryRecord:
    """One resource's link-health history from a JSON backup, every value read and checked."""

    url: str
    state: dict[str, Any]
    checks: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    where: str


@dataclass
class ParsedFile:
    """Everything a file holds, in file order, with the problems found while reading it."""

    format: str
    resources: list[ResourceRecord] = field(default_factory=list)
    collections: list[CollectionRecord] = field(default_factory=list)
    topics: list[TopicRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # A JSON backup's "health" entries as written: read (history.history_records) only when
    # the import asks for the history.
    history: list[Any] = field(default_factory=list)

    def problem(self, line: int | None, message: str, **kwargs: Any) -> None:
        self.problems.append(Problem(line, message, **kwargs))
