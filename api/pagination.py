"""Keyset ("cursor") pagination with a hard cap on the page size.

DRF's CursorPagination keys on the first ordering field only and walks ties with an
OFFSET, so ordering by difficulty (three values over 100,000 rows) degrades into large
offsets. Here the cursor holds (value, id) and a page is one indexed range query whatever
its depth, for every ordering the views offer, search relevance included.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_PARAM = "cursor"
MAX_BIGINT = 2**63 - 1
PAGE_SIZE_PARAM = "page_size"


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_BIGINT


@dataclass(frozen=True)
class Ordering:
    """A page order: one field (descending when `descending`) with the id as tie-breaker."""

    name: str  # what the client asked for, e.g. "-created_at"; cursors remember it
    field: str
    descending: bool
    kind: type  # int, float, str or datetime: how a cursor value is read back

    @classmethod
    def parse(cls, name: str, kinds: dict[str, type]) -> Ordering:
        field = name.removeprefix("-")
        return cls(name, field, name.startswith("-"), kinds[field])

    def order_by(self, *, reverse: bool = False) -> tuple[str, str]:
        descending = self.descending != reverse
        prefix = "-" if descending else ""
        if self.field == "id":
            return (f"{prefix}id", f"{prefix}id")
        return (f"{prefix}{self.field}", f"{prefix}id")

    def after(self, value: Any, pk: int, *, reverse: bool = False) -> Q:
        """Rows strictly after (value, pk) in this order (before it when `reverse`)."""
        descending = self.descending != reverse
        op = "lt" if descending else "gt"
        if self.field == "id":
            return Q(**{f"id__{op}": pk})
        return Q(**{f"{self.field}__{op}": value}) | Q(**{self.field: value, f"id__{op}": pk})


class BoundedCursorPagination(BasePagination):
    """Pages of at most API_MAX_PAGE_SIZE rows; `next`/`previous` are opaque cursor links.

    The view sets `pagination_ordering` (an Ordering) before paginating. Rows may be model
    instances or dicts; they must carry the ordering field and the id.
    """

    def __init__(self) -> None:
        self.next_cursor: dict[str, Any] | None = None
        self.previous_cursor: dict[str, Any] | None = None
        self.request = None

    @property
    def max_page_size(self) -> int:  # read per request so tests can override settings
        return settings.API_MAX_PAGE_SIZE

    def page_size(self, request) -> int:
        raw = request.query_params.get(PAGE_SIZE_PARAM)
        if raw is None:
            return min(settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50, self.max_page_size)
        # ASCII digits only: int() also reads "５", "٣" and "5_0".
        if not re.fullmatch(r"[0-9]+", raw.strip()):
            raise ValidationError({PAGE_SIZE_PARAM: ["A whole number is required."]})
        size = int(raw)
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {PAGE_SIZE_PARAM: [f"Must be between 1 and {self.max_page_size}."]}
            )
        return size

    def decode_cursor(self, request, ordering: Ordering) -> dict[str, Any] | None:
        raw = request.query_params.get(CURSOR_PARAM)
        if not raw:
            return None
        # 404 as DRF's CursorPagination answers: the position asked for does not exist.
        invalid = NotFound({CURSOR_PARAM: ["Invalid cursor: use a next or previous link."]})
        try:
            padded = raw + "=" * (-len(raw) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, UnicodeError, binascii.Error):
            raise invalid from None
        if not isinstance(data, dict) or data.get("o") != ordering.name:
            raise NotFound(
                {CURSOR_PARAM: ["This cursor belongs to another ordering or is invalid."]}
            )
        pk, value, direction = data.get("id"), data.get("v"), data.get("d")
        if not _is_id(pk) or direction not in ("n", "p"):
            raise invalid
        data["v"] = self._read_value(value, ordering, invalid)
        return data

    @staticmethod
    def _read_value(value: Any, ordering: Ordering, invalid: NotFound) -> Any:
        # A cursor is client input: anything the database could choke on (a NUL, a number
        # beyond 64 bits, an impossible date) is an invalid cursor, never a 500.
        if ordering.field == "id":
            return None
        kind = ordering.kind
        if kind is datetime and isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                try:
                    # PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 parsers accept.
                    return parsed.astimezone(UTC)
                except OverflowError:
                    raise invalid from None
            if parsed is not None:
                return parsed
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is float and number and math.isfinite(value):
            return float(value)
        if kind is int and _is_id(value):
            return value
        if kind is str and isinstance(value, str) and "\x00" not in value:
            return value
        raise invalid

    @staticmethod
    def _encode(ordering: Ordering, row: Any, direction: str) -> dict[str, Any]:
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        value = None if ordering.field == "id" else get(ordering.field)
        if isinstance(value, datetime):
            value = value.isoformat()
        return {"o": ordering.name, "v": value, "id": get("id"), "d": direction}

    def paginate_queryset(
        self, queryset: QuerySet | Sequence[QuerySet], request, view=None
    ) -> list[Any]:
        """A page of `queryset`, or of tiers: querysets whose rows follow one another in the
        view's ordering (every row of one before every row of the next), read in turn until
        the page is full, so a page that the first tier fills never reads the next."""
        ordering: Ordering = view.pagination_ordering
        self.request = request
        size = self.page_size(request)
        cursor = self.decode_cursor(request, ordering)
        backwards = cursor is not None and cursor["d"] == "p"
        tiers = [queryset] if isinstance(queryset, QuerySet) else list(queryset)
        if backwards:
            tiers.reverse()
        rows: list[Any] = []
        for tier in tiers:
            if cursor is not None:
                tier = tier.filter(ordering.after(cursor["v"], cursor["id"], reverse=backwards))
            wanted = size + 1 - len(rows)
            rows += list(tier.order_by(*ordering.order_by(reverse=backwards))[:wanted])
            if len(rows) > size:
                break
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
            has_next, has_previous = True, more
        else:
            has_next, has_previous = more, cursor is not None
        self.next_cursor = self._encode(ordering, rows[-1], "n") if rows and has_next else None
        self.previous_cursor = (
            self._encode(ordering, rows[0], "p") if rows and has_previous else None
        )
        return rows

    def _link(self, cursor: dict[str, Any] | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        token = base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode(
            "ascii"
        )
        return replace_query_param(url, CURSOR_PARAM, token.rstrip("="))

    def get_paginated_response(self, data: Sequence[Any]) -> Response:
        return Response(
            {
                "next": self._link(self.next_cursor),
                "previous": self._link(self.previous_cursor),
                "results": data,
            }
        )

    def get_first_page_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), CURSOR_PARAM)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": CURSOR_PARAM,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": PAGE_SIZE_PARAM,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {settings.API_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
            },
        ]
