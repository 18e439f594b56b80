"""A resource's fields as files write them (text cells, JSON values) and back.

CSV and JSON share these rules so that both read what the API writes: difficulty as its
slug (or 1-3), topics as slugs, booleans as true/false, blank as "not given".
"""

from __future__ import annotations

from typing import Any

from curation.models import Difficulty, Resource

# The API's writable fields, in the order files write them.
RESOURCE_COLUMNS = [
    "url", "title", "description", "kind", "difficulty", "topics", "author", "publisher",
    "language", "duration_minutes", "cost", "curator_note", "featured", "status", "created_at",
]  # fmt: skip
TEXT_FIELDS = frozenset(
    {"title", "description", "kind", "author", "publisher", "language", "cost",
     "curator_note", "status"}
)  # fmt: skip
TRUE = frozenset({"true", "1", "yes", "y"})
FALSE = frozenset({"false", "0", "no", "n", ""})


class CellError(ValueError):
    """One value cannot be read; the message says what was expected."""


def difficulty_value(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value in Difficulty.values:
            return value
        raise CellError(f"unknown difficulty {value!r}: use beginner, intermediate or advanced")
    text = str(value).strip()
    if text.isascii() and text.isdigit() and int(text) in Difficulty.values:
        return int(text)
    try:
        return Difficulty.from_slug(text).value
    except ValueError:
        raise CellError(
            f"unknown difficulty {text!r}: use beginner, intermediate or advanced"
        ) from None


def duration_value(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    # ASCII digits only: int() would accept '٣' and '３'.
    if not (text.isascii() and text.isdigit()):
        raise CellError(f"duration_minutes must be a whole number of minutes, not {text!r}")
    return int(text)


def boolean_value(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CellError(f"expected true or false, not {value!r}")


def topic_slugs(value: Any, separator: str = ";") -> list[str]:
    if isinstance(value, list):
        return [str(slug).strip() for slug in value if str(slug).strip()]
    return [slug.strip() for slug in str(value or "").split(separator) if slug.strip()]


def read_resource_cells(
    cells: dict[str, Any],
) -> tuple[dict[str, Any], list[str], str | None, dict[str, str]]:
    """(fields, topic slugs, added_at, errors by column) from one row's named values.

    A column that is absent or None is "not given" (the model's default applies); an empty
    text is kept as empty.
    """
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        if cells.get(name) is not None:
            fields[name] = str(cells[name])
    readers = {
        "difficulty": difficulty_value,
        "duration_minutes": duration_value,
        "featured": boolean_value,
    }
    for name, reader in readers.items():
        raw = cells.get(name)
        # A null duration is a value (unknown length); other nulls mean "not given".
        given = name in cells if name == "duration_minutes" else raw is not None
        if not given or (name == "difficulty" and str(raw).strip() == ""):
            continue
        try:
            fields[name] = reader(raw)
        except CellError as exc:
            errors[name] = str(exc)
    for name in ("kind", "cost", "status"):
        # Blank means the default, as when the column is absent.
        if name in fields and not fields[name].strip():
            del fields[name]
    topics = topic_slugs(cells.get("topics"))
    added_at = cells.get("created_at")
    return fields, topics, (str(added_at) if added_at not in (None, "") else None), errors


def resource_cells(resource: Resource, topics: list[str]) -> dict[str, Any]:
    """The resource as named values (JSON types): what read_resource_cells reads back."""
    return {
        "url": resource.url,
        "title": resource.title,
        "description": resource.description,
        "kind": resource.kind,
        "difficulty": Difficulty(resource.difficulty).slug,
        "topics": topics,
        "author": resource.author,
        "publisher": resource.publisher,
        "language": resource.language,
        "duration_minutes": resource.duration_minutes,
        "cost": resource.cost,
        "curator_note": resource.curator_note,
        "featured": resource.featured,
        "status": resource.status,
        "created_at": resource.created_at.isoformat() if resource.created_at else None,
    }
