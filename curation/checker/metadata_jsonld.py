"""Facts from schema.org JSON-LD blocks: the first learning-relevant node wins.

JSON-LD in the wild nests nodes in @graph arrays and lists, gives "@type" as a list, writes
types as full IRIs, and refers to authors by "@id". All of that is handled here; anything
else malformed is skipped, never raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curation.checker.metadata_values import (
    normalize_date,
    normalize_language,
    parse_bool,
    parse_iso8601_duration,
)

MAX_SCRIPTS = 20
MAX_SCRIPT_CHARS = 256 * 1024
MAX_NODES = 5_000
MAX_DEPTH = 32
MAX_AUTHORS = 10

# schema.org types we describe, with the kind of resource each suggests ("" = no opinion).
KIND_BY_TYPE: dict[str, str] = {
    "Article": "article",
    "BlogPosting": "article",
    "NewsArticle": "article",
    "TechArticle": "article",
    "ScholarlyArticle": "paper",
    "VideoObject": "video",
    "Course": "course",
    "LearningResource": "",
    "Book": "book",
}
_TYPE_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")


@dataclass
class JsonLdFacts:
    """Raw strings from the chosen node; the caller cleans and caps them."""

    schema_type: str = ""
    kind_hint: str = ""
    title: str = ""
    description: str = ""
    author: str = ""
    published: str = ""
    language: str = ""
    image: str = ""
    site_name: str = ""
    educational_level: str = ""
    duration_minutes: int | None = None
    is_free: bool | None = None


def extract_jsonld(scripts: Iterable[str]) -> JsonLdFacts | None:
    """Facts from the first node of a known type across the page's JSON-LD scripts, or None."""
    documents = []
    for index, script in enumerate(scripts):
        if index >= MAX_SCRIPTS:
            break
        document = _load(script)
        if document is not None:
            documents.append(document)
    nodes = list(_walk(documents))
    by_id: dict[str, dict] = {}
    for node in nodes:
        # A bare {"@id": ...} is a reference, not the node it names.
        if isinstance(node.get("@id"), str) and len(node) > 1:
            by_id.setdefault(node["@id"], node)
    for node in nodes:
        types = _types(node)
        known = [t for t in types if t in KIND_BY_TYPE]
        if known:
            return _facts(node, known, by_id)
    return None


def _load(script: str) -> object | None:
    if len(script) > MAX_SCRIPT_CHARS:
        return None
    # Old CMS templates wrap the JSON in an HTML comment or end it with a semicolon.
    text = script.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _walk(documents: list[object]) -> Iterator[dict]:
    """Every dict in document order (preorder), bounded in count and depth."""
    stack: list[tuple[object, int]] = [(doc, 0) for doc in reversed(documents)]
    seen = 0
    while stack and seen < MAX_NODES:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            seen += 1
            yield value
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        stack.extend((child, depth + 1) for child in reversed(list(children)))


def _types(node: dict) -> list[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    names = []
    for value in values:
        if isinstance(value, str):
            for prefix in _TYPE_PREFIXES:
                value = value.removeprefix(prefix)
            names.append(value.strip())
    return names


def _facts(node: dict, known_types: list[str], by_id: dict[str, dict]) -> JsonLdFacts:
    kind = next((KIND_BY_TYPE[t] for t in known_types if KIND_BY_TYPE[t]), "")
    duration = None
    for key in ("duration", "timeRequired"):
        duration = duration or parse_iso8601_duration(_first_text(node.get(key)))
    if duration is None:
        duration = _course_workload(node.get("hasCourseInstance"))
    published = ""
    for key in ("datePublished", "uploadDate", "dateCreated"):
        published = published or normalize_date(_first_text(node.get(key)))
    return JsonLdFacts(
        schema_type=known_types[0],
        kind_hint=kind,
        title=_first_text(node.get("headline")) or _first_text(node.get("name")),
        description=_first_text(node.get("description")),
        author=", ".join(_names(node.get("author"), by_id)[:MAX_AUTHORS]),
        published=published,
        language=_language(node.get("inLanguage")),
        image=_image(node.get("image")) or _image(node.get("thumbnailUrl")),
        site_name=_first_of_names(node.get("publisher"), by_id)
        or _first_of_names(node.get("provider"), by_id),
        educational_level=", ".join(_level_names(node.get("educationalLevel"))),
        duration_minutes=duration,
        is_free=parse_bool(node.get("isAccessibleForFree")),
    )


def _first_text(value: object) -> str:
    """A plain string from a JSON-LD value: str, {"@value": ...}, or the first of a list."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("@value"), str):
        return value["@value"]
    if isinstance(value, list):
        for item in value[:MAX_AUTHORS]:
            text = _first_text(item)
            if text:
                return text
    return ""


def _names(value: object, by_id: dict[str, dict]) -> list[str]:
    """Names from a string, a Person/Organization (inline or by @id), or a list of those."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        names: list[str] = []
        for item in value[:MAX_AUTHORS]:
            names.extend(_names(item, by_id))
        return names
    if isinstance(value, dict):
        name = _person_name(value)
        if not name and isinstance(value.get("@id"), str):
            name = _person_name(by_id.get(value["@id"], {}))
        return [name] if name else []
    return []


def _person_name(node: dict) -> str:
    name = _first_text(node.get("name"))
    if name:
        return name
    given, family = _first_text(node.get("givenName")), _first_text(node.get("familyName"))
    return f"{given} {family}".strip()


def _first_of_names(value: object, by_id: dict[str, dict]) -> str:
    names = _names(value, by_id)
    return names[0] if names else ""


def _level_names(value: object) -> list[str]:
    # educationalLevel is text or a DefinedTerm; sites often list several levels.
    items = value if isinstance(value, list) else [value]
    levels = []
    for item in items[:MAX_AUTHORS]:
        text = _first_text(item) or (
            _first_text(item.get("name")) if isinstance(item, dict) else ""
        )
        if text and text not in levels:
            levels.append(text)
    return levels


def _language(value: object) -> str:
    if isinstance(value, dict):
        return normalize_language(_first_text(value.get("alternateName"))) or normalize_language(
            _first_text(value.get("name"))
        )
    return normalize_language(_first_text(value))


def _image(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _first_text(value.get("url")) or _first_text(value.get("contentUrl"))
    if isinstance(value, list):
        for item in value[:MAX_AUTHORS]:
            image = _image(item)
            if image:
                return image
    return ""


def _course_workload(instances: object) -> int | None:
    # A Course often states its length only on its CourseInstance, as "courseWorkload".
    items = instances if isinstance(instances, list) else [instances]
    for item in items[:MAX_AUTHORS]:
        if isinstance(item, dict):
            minutes = parse_iso8601_duration(_first_text(item.get("courseWorkload")))
            if minutes is not None:
                return minutes
    return None
