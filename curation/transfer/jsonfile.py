"""The whole catalogue as one JSON document, for backups and moving between instances.

{"format": "syllabus-catalogue", "version": 1, "topics": [...], "resources": [...],
 "collections": [...], "health": [...]?}: topics with their parent and prerequisites by
slug, resources with the API's fields, collections with sections and items by URL. Health
history (history.py) is written when asked for, and imported when asked for.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.text import slugify

from curation.transfer.fields import read_resource_cells
from curation.transfer.limits import DEFAULT_LIMITS, FileRefused, Limits
from curation.transfer.records import (
    CollectionRecord,
    ItemRecord,
    ParsedFile,
    ResourceRecord,
    SectionRecord,
    TopicRecord,
)

FORMAT_NAME = "syllabus-catalogue"
VERSION = 1


def _depth(document: Any, limit: int) -> None:
    """Refuse a document nested deeper than `limit` (walked without recursion)."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise FileRefused(f"the JSON is nested more than {limit} levels deep")
        children = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict | list):
            stack.extend((child, depth + 1) for child in children)


def _decode(text: str, limits: Limits) -> Any:
    try:
        document = json.loads(text)
    except RecursionError:
        raise FileRefused("the JSON is nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise FileRefused(f"line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})") from None
    _depth(document, limits.max_depth)
    return document


def _load(document: Any, limits: Limits) -> dict[str, Any]:
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise FileRefused(f'the JSON is not a Syllabus catalogue (no "format": "{FORMAT_NAME}")')
    if document.get("version") != VERSION:
        raise FileRefused(f"catalogue version {document.get('version')!r} is not {VERSION}")
    total = sum(len(document.get(key) or []) for key in ("topics", "resources", "collections"))
    if total > limits.max_rows:
        raise FileRefused(f"the catalogue has more than {limits.max_rows:,} records")
    return document


def _list(document: dict, key: str, parsed: ParsedFile) -> list[dict]:
    value = document.get(key) or []
    if not isinstance(value, list):
        raise FileRefused(f"{key!r} must be a list")
    good = []
    for index, entry in enumerate(value):
        if isinstance(entry, dict):
            good.append(entry)
        else:
            parsed.problem(None, f"{key}[{index}] is not an object", column=f"{key}[{index}]")
    return good


def parse_json(text: str, *, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    """The catalogue in a JSON backup, or linkding's bookmarks as its API lists them; a
    problem's column is the entry's path (resources[3], results[3])."""
    document = _decode(text, limits)
    bookmarks = _linkding_bookmarks(document)
    if bookmarks is not None:
        return _parse_linkding(bookmarks, limits)
    document = _load(document, limits)
    parsed = ParsedFile(format="json")
    for entry in _list(document, "topics", parsed):
        parsed.topics.append(
            TopicRecord(
                slug=str(entry.get("slug", "")),
                name=str(entry.get("name", "")),
                description=str(entry.get("description") or ""),
                parent=entry.get("parent") or None,
                prerequisites=[str(s) for s in entry.get("prerequisites") or []],
            )
        )
    for index, entry in enumerate(_list(document, "resources", parsed)):
        parsed.resources.append(_resource(index, entry, parsed))
    for entry in _list(document, "collections", parsed):
        parsed.collections.append(_collection(entry))
    history = document.get("health") or []
    if not isinstance(history, list):
        raise FileRefused("'health' must be a list")
    parsed.history = history
    return parsed


def _resource(index: int, entry: dict, parsed: ParsedFile) -> ResourceRecord:
    where = f"resources[{index}]"
    fields, topics, added_at, errors = read_resource_cells(entry)
    for name, message in errors.items():
        parsed.problem(None, f"{name}: {message}", column=f"{where}.{name}")
    return ResourceRecord(
        url=str(entry.get("url", "")),
        fields=fields,
        topics=topics,
        added_at=added_at,
        columns={name: f"{where}.{name}" for name in entry} | {"added_at": f"{where}.created_at"},
        invalid=bool(errors),
    )


def _collection(entry: dict) -> CollectionRecord:
    return CollectionRecord(
        slug=str(entry.get("slug", "")),
        title=str(entry.get("title", "")),
        intro=str(entry.get("intro") or ""),
        status=entry.get("status") or None,
        author_name=str(entry.get("author_name") or ""),
        published_on=entry.get("published_on") or None,
        sections=[
            SectionRecord(
                title=str(section.get("title", "")),
                intro=str(section.get("intro") or ""),
                items=[
                    ItemRecord(
                        url=str(item.get("url", "")),
                        note=str(item.get("note") or ""),
                        required=bool(item.get("required", True)),
                    )
                    for item in section.get("items") or []
                    if isinstance(item, dict)
                ],
            )
            for section in entry.get("sections") or []
            if isinstance(section, dict)
        ],
    )


# --- linkding ----------------------------------------------------------------------------------
# linkding's REST API lists bookmarks as {"count", "next", "previous", "results": [...]}, each
# {"url", "title", "description", "notes", "website_title", "website_description",
# "tag_names", "date_added", "is_archived", "unread", "shared", ...}: what its users save
# as a JSON export (one page, or the pages' "results" joined into one list).
LINKDING_KEYS = frozenset({"url", "tag_names", "date_added"})
TITLE_LENGTH = 300


def _linkding_bookmarks(document: Any) -> list | None:
    """The bookmarks if `document` is linkding's, else None."""
    if isinstance(document, dict) and "format" not in document:
        document = document.get("results")
    if not isinstance(document, list) or not document:
        return None
    first = document[0]
    return document if isinstance(first, dict) and set(first) >= LINKDING_KEYS else None


def _parse_linkding(bookmarks: list, limits: Limits) -> ParsedFile:
    if len(bookmarks) > limits.max_rows:
        raise FileRefused(f"the file has more than {limits.max_rows:,} bookmarks")
    parsed = ParsedFile(format="json (linkding)")
    tags: dict[str, TopicRecord] = {}
    for index, entry in enumerate(bookmarks):
        where = f"results[{index}]"
        if not isinstance(entry, dict):
            parsed.problem(None, f"{where} is not an object", column=where)
            continue
        cells = {
            "url": str(entry.get("url") or ""),
            "title": str(entry.get("title") or entry.get("website_title") or "")[:TITLE_LENGTH],
            "description": str(entry.get("description") or entry.get("website_description") or ""),
            "curator_note": str(entry.get("notes") or ""),
            "created_at": entry.get("date_added"),
        }
        topics = []
        for tag in entry.get("tag_names") or []:
            slug = slugify(str(tag))[:120]
            if slug:
                tags.setdefault(slug, TopicRecord(slug, str(tag)[:120], from_tag=True))
                topics.append(slug)
        fields, _, added_at, errors = read_resource_cells(cells)
        columns = {name: f"{where}.{name}" for name in ("url", "title", "description")}
        columns |= {"curator_note": f"{where}.notes", "added_at": f"{where}.date_added"}
        for name, message in errors.items():
            parsed.problem(None, f"{name}: {message}", column=columns.get(name, where))
        parsed.resources.append(
            ResourceRecord(
                url=cells["url"],
                fields=fields,
                topics=topics,
                added_at=added_at,
                columns=columns,
                invalid=bool(errors),
            )
        )
    parsed.topics.extend(tags.values())
    return parsed
