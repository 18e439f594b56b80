"""How the workbench shows times and counts: one helper for every page.

A time reads as people read it, in the admin's time zone ("4 Dec 2026, 15:43 UTC (2 hours
ago)"), with the exact stored value on hover; stored JSON keeps ISO strings, and those are
shown the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

EMPTY = "—"
# Under a minute, timesince says "0 minutes": "just now" is what people say.
JUST_NOW_SECONDS = 60


def parse_time(value: datetime | str | None) -> datetime | None:
    """A datetime from a datetime or a stored ISO string; None for anything else."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and "T" in value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        # A stored value without a zone was written in UTC (the database's zone).
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return None


def absolute(value: datetime) -> str:
    """ "4 Dec 2026, 15:43 UTC" in the active time zone (the admin's TIME_ZONE by default)."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".rstrip()


def relative(value: datetime, now: datetime | None = None) -> str:
    """ "2 hours ago" or "in 3 days": the largest unit only, the way people round."""
    now = now or timezone.now()
    seconds = (value - now).total_seconds()
    if abs(seconds) < JUST_NOW_SECONDS:
        return "just now"
    if seconds < 0:
        return f"{timesince(value, now, depth=1)} ago".replace("\xa0", " ")
    return f"in {timeuntil(value, now, depth=1)}".replace("\xa0", " ")


def when(value: datetime | str | None, *, now: datetime | None = None, empty: str = EMPTY):
    """A time as HTML: readable text, the exact ISO value in `datetime` and on hover."""
    moment = parse_time(value)
    if moment is None:
        return empty if not value else str(value)
    exact = moment.isoformat()
    return format_html(
        '<time datetime="{}" title="{}">{} ({})</time>',
        exact,
        exact,
        absolute(moment),
        relative(moment, now),
    )


def when_text(value: datetime | str | None, *, empty: str = EMPTY) -> str:
    """A time as plain text, for messages and emails: absolute, since they are read later."""
    moment = parse_time(value)
    if moment is None:
        return empty if not value else str(value)
    return absolute(moment)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 check", "2 checks": the count with the noun that agrees with it."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def detail(value: Any) -> SafeString | str:
    """Stored JSON (an incident's detail, say) as a readable list, its times shown by `when`."""
    if isinstance(value, dict):
        if not value:
            return EMPTY
        return format_html(
            "<dl>{}</dl>",
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((key, detail(item)) for key, item in value.items())
            ),
        )
    if isinstance(value, list):
        if not value:
            return EMPTY
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((detail(i),) for i in value))
        )
    if parse_time(value) is not None:
        return when(value)
    return format_html("{}", value)


def time_field(field: str, description: str):
    """A ModelAdmin column or read-only field showing `field` through `when`.

    Use as a class attribute (`last_checked = time_field("last_checked_at", "last checked")`)
    and name it in list_display, readonly_fields or fieldsets in place of the field itself.
    """

    @admin.display(description=description, ordering=field)
    def show(modeladmin, obj) -> str:
        return when(getattr(obj, field, None))

    show.__name__ = f"{field}_shown"
    return show
